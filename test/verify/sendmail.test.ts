/*
 * sendmail -bv and -v on their own (no mail system running): what they
 * leave in maildrop/ (the trace_flags attribute, -bv's probe message)
 * and what they print, as Postfix 3.7's sendmail does
 * (test/golden/verify/bv.out, v.out).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEL_REQ_FLAG } from '../../src/global/deliver_request.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { GOLDEN, ours } from '../harness/index.js';
import { maildropSetup } from '../sendmail/fixture.js';

async function queued(
  maildrop: string,
): Promise<{ attrs: Record<string, string>; content: string; rcpts: string[] }> {
  const files = readdirSync(maildrop);
  assert.equal(files.length, 1);
  const r = await openQueueFile(join(maildrop, files[0] as string));
  if (!r.ok) throw r.error;
  try {
    const chunks: Buffer[] = [];
    for await (const b of r.file.contentBytes()) chunks.push(b);
    return {
      attrs: { ...r.file.attributes },
      content: Buffer.concat(chunks).toString('latin1'),
      rcpts: r.file.recipients.map((x) => x.address),
    };
  } finally {
    await r.file.close();
  }
}

test('-bv: a probe with trace_flags VERIFY, standard input not read, the report announced', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, '-bv', '-f', 'prtest2', 'prtest1', 'list, other@example.net'], {
    input: 'Subject: never read\n\nbody\n',
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, readFileSync(join(GOLDEN, 'verify/bv.out'), 'utf8'));
  const q = await queued(maildrop);
  assert.equal(q.attrs.trace_flags, String(DEL_REQ_FLAG.VERIFY));
  assert.deepEqual(q.rcpts, ['prtest1', 'list', 'other@example.net']);
  assert.equal(q.content, 'From: prtest2\nSubject: probe\nTo: prtest1, list, other@example.net\n');
});

test('-v: the message as usual with trace_flags RECORD; -v -v also logs verbosely; none without -v', async (t) => {
  let { conf, maildrop } = maildropSetup(t);
  const msg = 'Subject: record me\n\nbody\n';
  let r = ours('sendmail', ['-C', conf, '-v', '-f', 'prtest2', 'prtest1'], { input: msg });
  assert.deepEqual(
    [r.stdout, r.stderr, r.status],
    [readFileSync(join(GOLDEN, 'verify/v.out'), 'utf8'), '', 0],
  );
  let q = await queued(maildrop);
  assert.equal(q.attrs.trace_flags, String(DEL_REQ_FLAG.RECORD));
  assert.equal(q.content, msg);

  ({ conf, maildrop } = maildropSetup(t));
  r = ours('sendmail', ['-C', conf, '-v', '-v', '-bv', 'prtest1'], { input: '' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Mail Delivery Status Report will be mailed to <\w+>\.\n$/u);
  assert.match(r.stderr, /^sendmail: queued as \w+/mu);
  q = await queued(maildrop);
  assert.equal(q.attrs.trace_flags, String(DEL_REQ_FLAG.VERIFY | DEL_REQ_FLAG.RECORD));

  ({ conf, maildrop } = maildropSetup(t));
  r = ours('sendmail', ['-C', conf, '-f', 'prtest2', 'prtest1'], { input: msg });
  assert.deepEqual([r.stdout, r.stderr, r.status], ['', '', 0]);
  q = await queued(maildrop);
  assert.equal(q.attrs.trace_flags, undefined);
});

test('-bv without recipients: the usual fatal error, nothing queued', (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, '-bv'], { input: '' });
  assert.equal(r.status, 75);
  assert.match(
    r.stderr,
    /^sendmail: fatal: \S+: Recipient addresses must be specified on the command line or via the -t option\n$/u,
  );
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(maildrop), []);
});
