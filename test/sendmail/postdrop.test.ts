/*
 * postdrop: the submission stream, as a real process; and sendmail in a
 * real shell pipeline.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DSN_NOTIFY, encodeRecord, REC } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { decodeSubmission, encodeSubmission } from '../../src/sendmail/stream.js';
import type { MaildropMessage } from '../../src/sendmail/submit.js';
import { ours, ROOT } from '../harness/index.js';
import { maildropSetup } from './fixture.js';

const message: MaildropMessage = {
  sender: 'me@example.com',
  recipients: [{ address: 'a@example.com', dsnNotify: DSN_NOTIFY.FAILURE }],
  extracted: [{ address: 'b@example.com' }],
  attributes: { full_name: 'Me' },
  dsnEnvid: 'E1',
  dsnRet: 1,
  lines: ['Subject: s', '', 'caf\xe9', ''],
};

test('postdrop writes the stream into maildrop and prints the queue ID', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('postdrop', ['-c', conf], { input: encodeSubmission(message) });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const files = readdirSync(maildrop);
  assert.deepEqual(files.length, 1);
  assert.equal(r.stdout, `queue_id=${files[0]}\n`);
  const q = await openQueueFile(join(maildrop, files[0] as string));
  assert.ok(q.ok);
  const env = q.file.envelope;
  assert.equal(env.sender, 'me@example.com');
  assert.deepEqual(
    q.file.recipients.map((x) => [x.address, x.dsnNotify]),
    [
      ['a@example.com', DSN_NOTIFY.FAILURE],
      ['b@example.com', undefined],
    ],
  );
  assert.equal(env.dsnEnvid, 'E1');
  assert.equal(env.dsnRet, 1);
  assert.equal(env.attributes?.full_name, 'Me');
  const chunks: Buffer[] = [];
  for await (const b of q.file.contentBytes()) chunks.push(Buffer.from(b));
  assert.equal(Buffer.concat(chunks).toString('latin1'), 'Subject: s\n\ncaf\xe9\n\n');
  await q.file.close();
});

test('stream round trip', () => {
  const d = decodeSubmission(encodeSubmission(message));
  assert.ok(d.ok);
  assert.deepEqual({ ...d.message, attributes: { ...d.message.attributes } }, message);
});

test('every truncation of a stream is refused, and leaves no file', (t) => {
  const full = encodeSubmission(message);
  for (let n = 0; n < full.length; n++) {
    assert.equal(decodeSubmission(full.subarray(0, n)).ok, false, `cut at ${n}`);
  }
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('postdrop', ['-c', conf], { input: full.subarray(0, full.length - 1) });
  assert.equal(r.status, 1);
  const uid = process.getuid?.() ?? 0;
  assert.match(
    r.stderr,
    new RegExp(
      `^postdrop: warning: stdin: unexpected EOF.*\npostdrop: fatal: uid=${uid}: malformed input\n$`,
    ),
  );
  assert.deepEqual(readdirSync(maildrop), []);
});

test('malformed streams: garbage, records out of order, bytes after the end', (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const full = encodeSubmission(message);
  for (const input of [
    Buffer.from('garbage'),
    Buffer.concat([full, Buffer.from('x')]),
    Buffer.concat([encodeRecord(REC.RCPT, 'a@x'), full]),
  ]) {
    const r = ours('postdrop', ['-c', conf], { input });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /postdrop: fatal: uid=\d+: malformed input\n$/);
  }
  assert.deepEqual(readdirSync(maildrop), []);
});

test('message_size_limit and usage errors', (t) => {
  const { conf, maildrop } = maildropSetup(t, 'message_size_limit = 10\n');
  let r = ours('postdrop', ['-c', conf], { input: encodeSubmission(message) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /warning: uid=\d+: File too large\n/);
  r = ours('postdrop', ['-Z'], {});
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    "postdrop: invalid option -- 'Z'\npostdrop: fatal: usage: postdrop [-c config_dir] [-v]\n",
  );
  assert.deepEqual(readdirSync(maildrop), []);
});

test('sendmail in a shell pipeline, and many at once', (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const bin = join(ROOT, 'bin', 'sendmail');
  const script = Array.from(
    { length: 5 },
    (_, i) => `printf 'Subject: %s\\n\\nbody\\n' ${i} | '${bin}' -C '${conf}' -f s@x r${i}@x &`,
  ).join('\n');
  const r = spawnSync('sh', ['-c', `${script}\nwait`], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(readdirSync(maildrop).length, 5);
});

test('sendmail stops reading an endless pipe once message_size_limit is passed', (t) => {
  const { conf, maildrop } = maildropSetup(t, 'message_size_limit = 2000\n');
  const bin = join(ROOT, 'bin', 'sendmail');
  const r = spawnSync('sh', ['-c', `yes | '${bin}' -C '${conf}' u@x`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'did not hang');
  assert.match(r.stderr, /^sendmail: fatal: \S+: message file too big\n$/);
  assert.equal(r.status, 75);
  assert.deepEqual(readdirSync(maildrop), []);
});
