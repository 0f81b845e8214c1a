/*
 * Case folding as Postfix does it: ASCII-only without SMTPUTF8, Unicode full
 * case folding with it, checked against every case-mapped code point as
 * Postfix 3.7 folded it (test/golden/maps/fold/utf8.txt).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { casefold, foldAscii, foldKey } from '../../../src/maps/fold.js';
import { GOLDEN } from '../../harness/index.js';

const golden = readFileSync(join(GOLDEN, 'maps', 'fold', 'utf8.txt'), 'utf8')
  .trimEnd()
  .split('\n')
  .map((l) => {
    const [hex, folded] = l.split('\t');
    return { cp: Number.parseInt(hex!, 16), folded: folded! };
  });

/** Characters added to Unicode after the ICU Postfix was built with: Postfix leaves them alone. */
const newerThanPostfix = (cp: number, folded: string) =>
  folded === String.fromCodePoint(cp) && casefold(folded, true) !== folded;

test('UTF-8 folding matches Postfix for every case-mapped code point', () => {
  assert.ok(golden.length > 2500);
  const wrong = golden
    .filter(
      ({ cp, folded }) =>
        !newerThanPostfix(cp, folded) && casefold(String.fromCodePoint(cp), true) !== folded,
    )
    .map(({ cp, folded }) => `U+${cp.toString(16)} -> ${folded}`);
  assert.deepEqual(wrong, []);
  // The allowance above must stay small: it covers only recent scripts.
  assert.ok(golden.filter(({ cp, folded }) => newerThanPostfix(cp, folded)).length < 120);
});

test('full folding examples', () => {
  assert.equal(casefold('Straße', true), 'strasse');
  assert.equal(casefold('STRASSE', true), 'strasse');
  assert.equal(casefold('ÉCOLE', true), 'école');
  assert.equal(casefold('ΣΑΣ', true), 'σασ');
  assert.equal(casefold('ﬁ', true), 'fi');
  assert.equal(casefold('ı', true), 'ı');
  assert.equal(casefold('Ꭰ', true), 'Ꭰ');
  assert.equal(casefold('ꭰ', true), 'Ꭰ');
  assert.equal(casefold('User@Example.COM', true), 'user@example.com');
});

test('without SMTPUTF8 only A-Z fold', () => {
  assert.equal(casefold('ÉCOLE Ab', false), 'École ab');
  assert.equal(foldAscii('ÀZ'), 'Àz');
});

test('foldKey honours the fold flag', () => {
  assert.equal(foldKey('MiXed', { fold: false, utf8: true }), 'MiXed');
  assert.equal(foldKey('MiXed', { fold: true, utf8: false }), 'mixed');
});
