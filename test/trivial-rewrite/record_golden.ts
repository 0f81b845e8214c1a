/*
 * Record test/golden/trivial-rewrite/golden.json from Postfix's own
 * trivial-rewrite, run stand-alone (as root: it drops privileges):
 *   npx tsc -p . && node dist/test/trivial-rewrite/record_golden.js
 * Each case is asked twice; a difference stops the run.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CASES } from './cases.js';
import { GOLDEN_FILE, type Golden, layOut, runPostfix } from './golden.js';

const golden: Golden = {};
for (const c of CASES) {
  const dir = mkdtempSync(join(tmpdir(), 'tr-golden-'));
  try {
    layOut(c, dir);
    const replies = await runPostfix(c, dir);
    assert.deepEqual(await runPostfix(c, dir), replies, `${c.name} is not repeatable`);
    golden[c.name] = replies;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
mkdirSync(dirname(GOLDEN_FILE), { recursive: true });
// One reply a line keeps the file short and its diffs readable.
const body = Object.entries(golden)
  .map(
    ([name, replies]) =>
      `${JSON.stringify(name)}: [\n${replies.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n ]`,
  )
  .join(',\n ');
writeFileSync(GOLDEN_FILE, `{\n ${body}\n}\n`);
process.stdout.write(`${CASES.length} cases recorded in ${GOLDEN_FILE}\n`);
