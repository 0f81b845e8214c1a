/*
 * postmap, postalias and newaliases run as processes must reproduce what
 * Postfix 3.7 printed and returned (test/golden/{postmap,postalias}).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ours } from '../harness/index.js';
import { CASES, goldenPath, transcript } from './cases.js';

for (const c of CASES) {
  test(`${c.area} golden: ${c.name}`, () => {
    const expected = readFileSync(goldenPath(c), 'utf8');
    const got = transcript(c, (step, cwd, input) => ours(step.cmd, step.args, { cwd, input }));
    assert.equal(got, expected);
  });
}
