/*
 * bin/postconf -t/-b against the runs recorded from Postfix 3.7.11
 * (cases.ts, record_golden.ts): same stderr and exit status, the case's own
 * templates byte for byte, the built-in ones (Postroom's wording) in the
 * same place with the same facts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/index.js';
import { CASES } from './cases.js';
import { assertSameRun, readGolden, runCase } from './golden.js';

const OURS = join(ROOT, 'bin', 'postconf');
const golden = readGolden();

test('every case has a recording for each of its modes', () => {
  for (const c of CASES) for (const m of c.modes) assert.ok(golden[c.name]?.[m], `${c.name} -${m}`);
});

for (const c of CASES) {
  for (const mode of c.modes) {
    test(`postconf -${mode}: ${c.name}`, () => {
      const want = golden[c.name]?.[mode];
      assert.ok(want, 'recorded');
      assertSameRun(runCase(OURS, c, mode), want, c, mode);
    });
  }
}
