/*
 * sendmail -B: the body type becomes the maildrop file's encoding
 * attribute value (cleanup keeps it, see test/cleanup/encoding.test.ts);
 * only the upper-case names are accepted, as Postfix's sendmail does
 * (errors.json: bad-B, lower-B).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSendmailArgs } from '../../src/sendmail/options.js';

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
