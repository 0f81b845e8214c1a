/*
 * recipient_bcc_maps through our cleanup daemon, against what Postfix
 * 3.7.11's cleanup wrote (test/golden/addrmap/bcc-order.json, recorded
 * by addr_record.ts): the lookup key is the recipient after canonical
 * mapping and before virtual alias expansion, a BCC address is
 * canonicalized and expanded and is its own original recipient, and the
 * queue file lists them in Postfix's order.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLEANUP_FLAG, CleanupClient } from '../../src/global/cleanup_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import { CONFIGS, goldenFile } from './addr_cases.js';
import { daemonSetup, readQueueFile } from './daemon_fixture.js';

interface Golden {
  messages: { sender: string; recipients: [string, string][] }[];
}

test('recipient_bcc_maps after canonical, before virtual; BCC original recipients as Postfix (bcc-order golden)', async (t) => {
  const config = CONFIGS.find((c) => c.name === 'bcc-order');
  assert.ok(config);
  const golden = JSON.parse(readFileSync(goldenFile(config), 'utf8')) as Golden;
  const want = golden.messages[0];
  assert.ok(want);
  const fx = await daemonSetup(t, config.mainCf.join('\n'));
  const cf = join(fx.conf, 'main.cf');
  writeFileSync(cf, readFileSync(cf, 'utf8').replaceAll('$TABLES', fx.conf));
  for (const [name, text] of Object.entries(config.tables)) writeFileSync(join(fx.conf, name), `${text}\n`);
  await fx.start('cleanup');
  const cfg = loadMainConfig({ configDir: fx.conf });
  const c = config.cases[0];
  assert.ok(c);
  const client = await CleanupClient.open(cfg, CLEANUP_FLAG.MASK_EXTERNAL);
  await client.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: c.sender,
    recipients: c.recipients.map((address) => ({ address })),
    attributes: { rewrite_context: 'local', origin: 'uid=0', full_name: 'root' },
  });
  await client.content(Buffer.from('Subject: bcc\n\nbody\n'));
  const r = await client.finish();
  assert.equal(r.status, 0, r.reason);
  const [path] = await fx.waitFiles('incoming', 1);
  assert.ok(path);
  const { file } = await readQueueFile(path);
  assert.equal(file.envelope.sender, want.sender);
  assert.deepEqual(
    file.recipients.map((x) => [x.orig ?? '', x.address]),
    want.recipients,
  );
});
