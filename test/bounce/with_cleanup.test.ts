/*
 * The bounce service with our real cleanup daemon (both processes, on a
 * temporary queue): the notice becomes a committed queue file in incoming,
 * under the queue ID the bounce log line names.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { bounceFlush, closeBounceClients, logAppend } from '../../src/global/bounce_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import { queueLayout } from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { daemonSetup } from '../cleanup/daemon_fixture.js';
import { queueMessage } from './daemon.js';
import { field, parse } from './dsn_mime.js';

test('a non-delivery notice is queued by cleanup as a new message from the null sender', async (t) => {
  const fx = await daemonSetup(t);
  t.after(closeBounceClients);
  await fx.start('cleanup');
  await fx.start('bounce');
  const cfg = loadMainConfig({ configDir: fx.conf });
  const layout = queueLayout(cfg);
  const id = await queueMessage(layout, {
    sender: 'alice@example.com',
    recipients: [{ address: 'bob@example.org' }],
    content: 'From: alice@example.com\nSubject: hello\n\nbody\n',
  });
  await logAppend(cfg, 'bounce', id, {
    recipient: { address: 'bob@example.org', offset: 1 },
    status: '5.1.1',
    action: 'failed',
    reason: 'User unknown',
    relay: 'none',
  });
  await bounceFlush(cfg, { queue_name: 'active', queue_id: id, sender: 'alice@example.com' });
  const [path] = await fx.waitFiles('incoming', 1);
  assert.ok(path, 'no notice in incoming');
  const newId = basename(path);
  const log = await fx.waitLog(new RegExp(`${id}: sender non-delivery notification: ${newId}`));
  assert.match(
    log,
    new RegExp(`postfix/bounce\\[\\d+\\]: ${id}: sender non-delivery notification: ${newId}\\n`),
  );

  const opened = await openQueueFile(path);
  assert.ok(opened.ok);
  const file = opened.file;
  t.after(() => file.close());
  assert.equal(file.envelope.sender, '');
  assert.deepEqual(
    file.recipients.map((r) => r.address),
    ['alice@example.com'],
  );
  const chunks: Buffer[] = [];
  for await (const b of file.contentBytes()) chunks.push(b);
  const top = parse(Buffer.concat(chunks));
  assert.equal(top.type, 'multipart/report');
  assert.equal(field(top.headers, 'To'), 'alice@example.com');
  // What cleanup adds to any message it queues.
  assert.ok(field(top.headers, 'Message-Id'));
  assert.equal(field(top.parts![1]!.blocks![1]!, 'Final-Recipient'), 'rfc822; bob@example.org');
});
