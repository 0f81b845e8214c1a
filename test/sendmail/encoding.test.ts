/*
 * sendmail -B: the body type becomes the maildrop file's encoding
 * attribute value (cleanup keeps it, see test/cleanup/encoding.test.ts);
 * only the upper-case names are accepted, as Postfix's sendmail does
 * (errors.json: bad-B, lower-B).
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { isQueueId } from '../../src/global/queue_id.js';
import { parseSendmailArgs } from '../../src/sendmail/options.js';
import { ours } from '../harness/index.js';
import { maildropSetup } from './fixture.js';

test('-B 8BITMIME and -B 7BIT give the encoding; other values are fatal', () => {
  const enc = (argv: string[]) => {
    const p = parseSendmailArgs(argv);
    return p.kind === 'ok' ? p.args.encoding : `error: ${p.fatal}`;
  };
  assert.equal(enc(['-B', '8BITMIME', 'a@b']), '8bit');
  assert.equal(enc(['-B7BIT', 'a@b']), '7bit');
  assert.equal(enc(['a@b']), undefined);
  assert.equal(enc(['-B', '8bitmime', 'a@b']), 'error: -B option needs 8BITMIME or 7BIT');
});

test('sendmail -B 8BITMIME records encoding=8bit in the maildrop file', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  for (const [args, want] of [
    [['-B', '8BITMIME'], '8bit'],
    [[], undefined],
  ] as const) {
    const r = ours('sendmail', ['-C', conf, ...args, 'u@example.com'], { input: 'Subject: x\n\nbody\n' });
    assert.equal(r.status, 0, r.stderr);
    const [name] = readdirSync(maildrop).filter(isQueueId);
    const opened = await openQueueFile(join(maildrop, name as string));
    assert.ok(opened.ok);
    assert.equal(opened.file.attributes.encoding, want);
    await opened.file.close();
    rmSync(join(maildrop, name as string));
  }
});
