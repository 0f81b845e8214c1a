/*
 * postmap, postalias and newaliases run as processes must reproduce what
 * Postfix 3.7 printed and returned (test/golden/{postmap,postalias}).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CASES, goldenPath, oursRunner, transcript } from './cases.js';

for (const c of CASES) {
  test(`${c.area} golden: ${c.name}`, () => {
    const expected = readFileSync(goldenPath(c), 'utf8');
    const got = transcript(c, oursRunner);
    assert.equal(got, expected);
  });
}
