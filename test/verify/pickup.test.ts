/*
 * The request for a report travels from maildrop/ to the queue file:
 * sendmail -bv/-v write trace_flags, pickup passes on only the VERIFY and
 * RECORD bits (a local user may ask for a report, nothing more), cleanup
 * stores the attribute in the incoming file for qmgr.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeMaildrop } from '../../src/sendmail/submit.js';
import { daemonSetup, readQueueFile } from '../cleanup/daemon_fixture.js';

test('trace_flags from maildrop/ reach the queue file, masked to VERIFY and RECORD', async (t) => {
  const fx = await daemonSetup(t);
  await fx.start('cleanup');
  await fx.start('pickup');
  const layout = { directory: fx.queue, hashed: new Set<string>(), depth: 1, longIds: false };
  const submit = (trace: string, subject: string) =>
    writeMaildrop(layout, {
      sender: 'alice@example.com',
      recipients: [{ address: 'bob@example.com' }],
      extracted: [],
      attributes: { rewrite_context: 'local', trace_flags: trace },
      lines: [`Subject: ${subject}`, '', 'body'],
    });
  let r = fx.sendmail(['-bv', '-f', 'alice@example.com', 'bob@example.com'], '');
  assert.equal(r.status, 0, r.stderr);
  r = fx.sendmail(['-v', '-f', 'alice@example.com', 'bob@example.com'], 'Subject: v\n\nbody\n');
  assert.equal(r.status, 0, r.stderr);
  await submit('7', 'seven');
  await submit('4', 'four');
  await submit('x1', 'bad');
  await fx.kick();
  const files = await fx.waitFiles('incoming', 5);
  const got: Record<string, string | undefined> = {};
  for (const f of files) {
    const back = await readQueueFile(f);
    const subject = /^Subject: (.*)$/m.exec(back.headers)?.[1] ?? '?';
    got[subject] = back.file.attributes.trace_flags;
  }
  assert.deepEqual(got, { probe: '1', v: '2', seven: '3', four: undefined, bad: undefined });
});
