/*
 * pickup and bad or unreachable things: damaged maildrop files are
 * reported and removed as Postfix's pickup does (golden: test/golden/
 * cleanup/pickup_bad, recorded by record_pickup_bad.sh); when cleanup is
 * not there, the file stays and goes on a later trigger; many files at
 * once all arrive.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { daemonSetup, normalizeLog, readQueueFile } from '../cleanup/daemon_fixture.js';
import { GOLDEN } from '../harness/index.js';

const uid = process.getuid?.() ?? 0;

test('damaged maildrop files: warned as Postfix, removed, pickup carries on', async (t) => {
  const fx = await daemonSetup(t);
  await fx.start('cleanup');
  const md = join(fx.queue, 'maildrop');
  writeFileSync(join(md, 'ABCDE123451'), 'this is not a queue file\n');
  writeFileSync(join(md, 'ABCDE123452'), '');
  await fx.start('pickup');
  const log = await fx.waitLog(/type -2/);
  await fx.waitLog(/type -1/);
  const ours = normalizeLog(fx.log(), []).filter((l) => l.includes('unexpected or malformed'));
  const gold = normalizeLog(readFileSync(join(GOLDEN, 'cleanup/pickup_bad/maillog.txt'), 'utf8'), [])
    .filter((l) => l.includes('unexpected or malformed'))
    .map((l) => l.replace('uid=0:', `uid=${uid}:`));
  assert.deepEqual(ours.sort(), gold.sort(), log);
  // The damaged file's own line names it, as Postfix's does (the reason is ours: another file format).
  assert.match(fx.log(), /postfix\/pickup\[\d+\]: warning: maildrop\/ABCDE123451: /);
  await fx.waitEmpty('maildrop');
  assert.deepEqual(readdirSync(md), []);
  // Still serving.
  assert.equal(fx.sendmail(['-f', 'a@example.com', 'b@example.com'], 'Subject: next\n\nx\n').status, 0);
  await fx.kick();
  assert.equal((await fx.waitFiles('incoming', 1)).length, 1);
});

test('cleanup not running: the maildrop file stays, and goes once cleanup is back', async (t) => {
  const fx = await daemonSetup(t);
  await fx.start('pickup');
  assert.equal(fx.sendmail(['-f', 'a@example.com', 'b@example.com'], 'Subject: wait\n\nx\n').status, 0);
  await fx.kick();
  await fx.waitLog(/will try again/);
  assert.match(
    fx.log(),
    /postfix\/pickup\[\d+\]: warning: connect to .*public\/cleanup: .* -- will try again/,
  );
  assert.equal(readdirSync(join(fx.queue, 'maildrop')).length, 1);
  await fx.start('cleanup');
  await fx.kick();
  const files = await fx.waitFiles('incoming', 1);
  assert.equal(files.length, 1);
  const back = await readQueueFile(files[0] as string);
  assert.match(back.content, /\nSubject: wait\n/);
  await fx.waitEmpty('maildrop');
  assert.deepEqual(readdirSync(join(fx.queue, 'maildrop')), []);
});

test('many files at once: every one queued once, one uid= line each', async (t) => {
  const fx = await daemonSetup(t);
  for (let i = 0; i < 12; i++)
    assert.equal(
      fx.sendmail(['-f', 'a@example.com', `r${i}@example.com`], `Subject: n${i}\n\nx\n`).status,
      0,
    );
  await fx.start('cleanup');
  await fx.start('pickup');
  await fx.kick();
  await fx.kick();
  const files = await fx.waitFiles('incoming', 12);
  assert.equal(files.length, 12);
  const rcpts = new Set<string>();
  for (const f of files) for (const r of (await readQueueFile(f)).file.recipients) rcpts.add(r.address);
  assert.equal(rcpts.size, 12);
  assert.equal(fx.log().match(/: uid=\d+ from=<a@example.com>/g)?.length, 12);
  await fx.waitEmpty('maildrop');
  assert.deepEqual(readdirSync(join(fx.queue, 'maildrop')), []);
});

test('a maildrop file damaged inside its content: reported, removed, nothing queued', async (t) => {
  const fx = await daemonSetup(t);
  const { loadMainConfig } = await import('../../src/global/config.js');
  const { queueLayout } = await import('../../src/global/queue_dirs.js');
  const { createQueueFile } = await import('../../src/global/queue_file_writer.js');
  const w = await createQueueFile(queueLayout(loadMainConfig({ configDir: fx.conf })), { queue: 'maildrop' });
  await w.envelope({
    arrival: { sec: 1, usec: 0 },
    sender: 'a@example.com',
    recipients: [{ address: 'b@example.com' }],
  });
  await w.content(Buffer.from('Subject: x\n\nhello\n'));
  const id = await w.commit();
  const path = join(fx.queue, 'maildrop', id);
  const bytes = readFileSync(path);
  bytes[bytes.indexOf('hello') - 2] = 0x5a; // the N record of "hello" becomes an unknown type
  writeFileSync(path, bytes);
  await fx.start('cleanup');
  await fx.start('pickup');
  await fx.waitLog(/type -2/);
  assert.match(fx.log(), new RegExp(`postfix/pickup\\[\\d+\\]: warning: maildrop/${id}: `));
  assert.match(fx.log(), new RegExp(`warning: uid=${uid}: unexpected or malformed record type -2`));
  await fx.waitEmpty('maildrop');
  assert.deepEqual(readdirSync(join(fx.queue, 'maildrop')), []);
  // cleanup drops its temporary file once it sees pickup give up.
  await fx.waitLog(/unexpected EOF from client/);
  const until = Date.now() + 5000;
  while (readdirSync(join(fx.queue, 'incoming')).length > 0 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')), []);
});
