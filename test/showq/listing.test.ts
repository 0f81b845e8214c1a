/*
 * showq listing: mailq / postqueue -p text and postqueue -j JSON over a
 * fixture queue written with the queue file writer.
 */

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { createQueueDirs, moveQueueFile, queueFilePath, queueLayout } from '../../src/global/queue_dirs.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import {
  formatJson,
  formatListing,
  listQueue,
  listQueueJson,
  parseDeferLog,
  type QueuedMessage,
} from '../../src/showq/listing.js';
import { configDir, GOLDEN, tempDir } from '../harness/index.js';

// showq prints local time; the expected text below is UTC.
process.env.TZ = 'UTC';

const T0 = 1795602010; // Wed Nov 25 10:20:10 2026 UTC

async function setup(t: TestContext, extra = '') {
  const dir = tempDir(t);
  const cfg = loadMainConfig({ configDir: configDir(t, `queue_directory = ${dir}\n${extra}`) });
  const layout = queueLayout(cfg);
  await createQueueDirs(layout);
  return { cfg, layout };
}

async function message(
  layout: ReturnType<typeof queueLayout>,
  queue: string,
  sec: number,
  sender: string,
  recipients: QueueRecipient[],
  body: string,
  done: string[] = [],
): Promise<string> {
  const w = await createQueueFile(layout);
  await w.envelope({ arrival: { sec, usec: 0 }, sender, recipients });
  await w.content(Buffer.from(body));
  const id = await w.commit();
  if (done.length > 0) {
    const r = await openQueueFile(queueFilePath(layout, 'incoming', id), { write: true });
    assert.ok(r.ok);
    for (const rc of r.file.recipients) if (done.includes(rc.address)) await r.file.markDone(rc);
    await r.file.close();
  }
  if (queue !== 'incoming') await moveQueueFile(layout, 'incoming', queue, id);
  return id;
}

test('an empty queue lists as "Mail queue is empty", and -j prints nothing', async (t) => {
  const { cfg } = await setup(t);
  assert.equal(await listQueue(cfg), 'Mail queue is empty\n');
  assert.equal(await listQueueJson(cfg), '');
});

test('mailq layout: header, status marks, sizes, times, senders, reasons, recipients, trailer', async (t) => {
  const { cfg, layout } = await setup(t);
  const big = `Subject: big\n\n${'x'.repeat(2000)}\n`;
  const a = await message(
    layout,
    'active',
    T0,
    'alice@example.com',
    [{ address: 'bob@example.org' }],
    'Subject: a\n\nhi\n',
  );
  const h = await message(layout, 'hold', T0 + 86400 * 3, '', [{ address: 'postmaster@example.com' }], big);
  const d = await message(
    layout,
    'deferred',
    T0 - 3600,
    'carol@example.com',
    [
      { address: 'x@remote.example' },
      { address: 'y@remote.example' },
      { address: 'z@done.example' },
      { address: 'w@other.example' },
    ],
    big,
    ['z@done.example'],
  );
  const log = queueFilePath(layout, 'defer', d);
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(
    log,
    'recipient=x@remote.example\nreason=connect to remote.example[192.0.2.1]:25: Connection refused\n\n' +
      'recipient=y@remote.example\nreason=connect to remote.example[192.0.2.1]:25: Connection refused\n\n' +
      'recipient=w@other.example\nreason=host mx.other.example said: 451 try later\n\n',
  );
  const pad = ' '.repeat(41);
  const want =
    '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n' +
    `${`${a}*`.padEnd(11)}      15 Wed Nov 25 10:20:10  alice@example.com\n` +
    `${pad}bob@example.org\n\n` +
    `${d.padEnd(11)}    2015 Wed Nov 25 09:20:10  carol@example.com\n` +
    `${'(connect to remote.example[192.0.2.1]:25: Connection refused)'.padStart(78)}\n` +
    `${pad}x@remote.example\n` +
    `${pad}y@remote.example\n` +
    `${'(host mx.other.example said: 451 try later)'.padStart(78)}\n` +
    `${pad}w@other.example\n\n` +
    `${`${h}!`.padEnd(11)}    2015 Sat Nov 28 10:20:10  MAILER-DAEMON\n` +
    `${pad}postmaster@example.com\n\n` +
    '-- 3 Kbytes in 3 Requests.\n';
  assert.equal(await listQueue(cfg), want);
  const json = (await listQueueJson(cfg)).split('\n');
  assert.equal(json.length, 4);
  assert.equal(json[3], '');
  assert.deepEqual(JSON.parse(json[1] as string), {
    queue_name: 'deferred',
    queue_id: d,
    arrival_time: T0 - 3600,
    message_size: 2015,
    forced_expire: false,
    sender: 'carol@example.com',
    recipients: [
      {
        address: 'x@remote.example',
        delay_reason: 'connect to remote.example[192.0.2.1]:25: Connection refused',
      },
      {
        address: 'y@remote.example',
        delay_reason: 'connect to remote.example[192.0.2.1]:25: Connection refused',
      },
      { address: 'w@other.example', delay_reason: 'host mx.other.example said: 451 try later' },
    ],
  });
  // Member order and spacing as postqueue -j prints them.
  assert.equal(
    json[2],
    `{"queue_name": "hold", "queue_id": "${h}", "arrival_time": ${T0 + 86400 * 3}, "message_size": 2015, "forced_expire": false, "sender": "MAILER-DAEMON", "recipients": [{"address": "postmaster@example.com"}]}`,
  );
});

test('one request says "Request", sizes below 1 Kbyte count as 0, long IDs and hashed queues are found', async (t) => {
  const { cfg, layout } = await setup(t, 'enable_long_queue_ids = yes\nhash_queue_depth = 2\n');
  const id = await message(layout, 'deferred', T0, 'a@b', [{ address: 'c@d' }], 'x\n');
  assert.equal(id.length > 11, true);
  const out = await listQueue(cfg);
  assert.equal(out.split('\n').at(-2), '-- 0 Kbytes in 1 Request.');
  assert.ok(out.includes(`\n${id.padEnd(11)}       2 Wed Nov 25 10:20:10  a@b\n`), out);
});

test('unreadable queue files are left out', async (t) => {
  const { cfg, layout } = await setup(t);
  await message(layout, 'active', T0, 'a@b', [{ address: 'c@d' }], 'x\n');
  const bad = await message(layout, 'active', T0, 'a@b', [{ address: 'e@f' }], 'x\n');
  writeFileSync(queueFilePath(layout, 'active', bad), 'garbage');
  const out = await listQueue(cfg);
  assert.ok(!out.includes(bad));
  assert.match(out, /-- 0 Kbytes in 1 Request\.\n$/);
});

test('JSON strings escape quotes, backslashes and controls, and keep UTF-8', () => {
  const out = formatJson([
    {
      queue: 'deferred',
      id: 'ABC',
      arrival: 1,
      size: 2,
      sender: 'jürgen@bücher.example',
      forcedExpire: false,
      recipients: [{ address: 'a"b\\c@d', reason: 'line\nbreak\u0001' }],
    },
  ]);
  assert.equal(
    out,
    '{"queue_name": "deferred", "queue_id": "ABC", "arrival_time": 1, "message_size": 2, "forced_expire": false, "sender": "jürgen@bücher.example", "recipients": [{"address": "a\\"b\\\\c@d", "delay_reason": "line\\nbreak\\u0001"}]}\n',
  );
  assert.deepEqual(JSON.parse(out), {
    queue_name: 'deferred',
    queue_id: 'ABC',
    arrival_time: 1,
    message_size: 2,
    forced_expire: false,
    sender: 'jürgen@bücher.example',
    recipients: [{ address: 'a"b\\c@d', delay_reason: 'line\nbreak\u0001' }],
  });
});

test('defer logs: the last reason recorded for a recipient wins; other lines are ignored', () => {
  assert.equal(formatListing([]), 'Mail queue is empty\n');
  const reasons = parseDeferLog('recipient=a@b\nreason=first\n\nrecipient=a@b\nreason=second\n\nnoise\n');
  assert.deepEqual([...reasons], [['a@b', 'second']]);
});

/** The queue Postfix listed when the goldens were recorded (test/golden/showq/README). */
function recorded(reason: string): QueuedMessage[] {
  const m = (queue: string, id: string, why?: string): QueuedMessage => ({
    queue,
    id,
    arrival: T0,
    size: 129,
    sender: 'sender@example.com',
    forcedExpire: false,
    recipients: [
      why === undefined ? { address: 'rcpt@example.com' } : { address: 'rcpt@example.com', reason: why },
    ],
  });
  return [
    m('maildrop', '2ED2D224611', reason),
    m('active', '3ED2D224612'),
    m('incoming', '5ED2D22461'),
    m('deferred', '2ED2D224611', reason),
    m('hold', '4ED2D22461'),
  ];
}

test('mailq text and -j JSON match Postfix 3.7 output byte for byte', () => {
  const G = join(GOLDEN, 'showq');
  const long =
    'host mx.example.com[192.0.2.7] said: 450 4.2.0 <rcpt@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html (in reply to RCPT TO command)';
  assert.equal(formatListing(recorded(long)), readFileSync(join(G, 'long-reason.stdout'), 'utf8'));
  assert.equal(formatJson(recorded(long)), readFileSync(join(G, 'long-reason.json'), 'utf8'));
  assert.equal(formatListing(recorded('short')), readFileSync(join(G, 'short.stdout'), 'utf8'));
  const refused = 'connect to example.com[192.0.2.1]:25: Connection refused';
  assert.equal(formatListing(recorded(refused)), readFileSync(join(G, 'conne.stdout'), 'utf8'));
  assert.equal(formatListing([]), readFileSync(join(G, 'empty.stdout'), 'utf8'));
  assert.equal(formatJson([]), readFileSync(join(G, 'empty.json'), 'utf8'));
});

test('the null sender shows as MAILER-DAEMON (text and JSON); a reason line heads its run of recipients', () => {
  const G = join(GOLDEN, 'showq');
  const same = 'same "quoted" \\ reason';
  const msgs: QueuedMessage[] = [
    {
      queue: 'maildrop',
      id: '4071F2240C5',
      arrival: T0 + 360,
      size: 118,
      sender: '',
      forcedExpire: false,
      recipients: [
        { address: 'a@example.com', reason: same },
        { address: 'b@example.com', reason: same },
        { address: 'c@example.com', reason: 'other' },
      ],
    },
  ];
  assert.equal(formatListing(msgs), readFileSync(join(G, 'null-sender.stdout'), 'utf8'));
  assert.equal(formatJson(msgs), readFileSync(join(G, 'null-sender.json'), 'utf8'));
});
