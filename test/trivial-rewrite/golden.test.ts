/*
 * Our trivial-rewrite, run as a process on Postfix's wire protocol,
 * answers every recorded case exactly as Postfix 3.7.11's did.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../harness/index.js';
import { CASES } from './cases.js';
import { layOut, loadGolden, runOurs } from './golden.js';

const golden = loadGolden();

for (const c of CASES) {
  test(`trivial-rewrite golden: ${c.name}`, (t) => {
    const expected = golden[c.name];
    assert.ok(expected, `no golden for ${c.name}: run record_golden`);
    const ours = runOurs(c, layOut(c, tempDir(t)));
    assert.equal(ours.status, 0, ours.stderr);
    const lines = (rs: string[][]) =>
      c.requests.map((r, i) => `${JSON.stringify(r)} -> ${JSON.stringify(rs[i])}`);
    assert.deepEqual(lines(ours.replies), lines(expected));
  });
}
