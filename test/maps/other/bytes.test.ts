/*
 * bytes.ts: any byte string survives decodeBytes/encodeBytes unchanged,
 * valid UTF-8 decodes as usual and is never taken for raw bytes, and the
 * strict UTF-8 check agrees with Node's fatal decoder (Postfix's
 * valid_utf8_string refuses the same: overlongs, surrogates, > U+10FFFF).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeBytes, encodeBytes, hasRawBytes, printable } from '../../../src/maps/bytes.js';

const strict = new TextDecoder('utf-8', { fatal: true });
const valid = (b: Uint8Array): boolean => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};

test('every byte string round-trips', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const text = decodeBytes(b);
      assert.deepEqual(encodeBytes(text), Buffer.from(b));
      assert.equal(hasRawBytes(text), !valid(b));
    }),
    { numRuns: 5000 },
  );
});

test('valid UTF-8 decodes as Node decodes it, astral characters included', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 32 }), (s) => {
      assert.equal(decodeBytes(Buffer.from(s, 'utf8')), s);
      assert.equal(hasRawBytes(s), false);
    }),
  );
  assert.equal(hasRawBytes('\u{10080}'), false, 'a surrogate pair is not a raw byte');
});

test('the forms Postfix refuses are raw bytes here', () => {
  for (const hex of ['c0af', 'e080af', 'eda080', 'f4908080', 'ff', 'c3', 'e282']) {
    assert.equal(hasRawBytes(decodeBytes(Buffer.from(hex, 'hex'))), true, hex);
  }
});

test('printable: "?" for raw bytes; without SMTPUTF8 for all non-ASCII', () => {
  const text = decodeBytes(Buffer.from('61c3a9e962', 'hex'));
  assert.equal(printable(text, true), 'aé?b');
  assert.equal(printable(text, false), 'a???b');
});
