/*
 * Record test/golden/bounce/golden.json from Postfix's postconf:
 *   npx tsc -p . && node dist/test/bounce/record_golden.js [/usr/sbin/postconf]
 * Each case is run twice; a difference (Postfix re-reads a template file
 * changed within the last second, repeating its warnings) stops the run.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { CASES } from './cases.js';
import { GOLDEN_FILE, type Golden, runCase } from './golden.js';

const postconf = process.argv[2] ?? '/usr/sbin/postconf';
const golden: Golden = {};
for (const c of CASES) {
  const entry: Golden[string] = {};
  for (const mode of c.modes) {
    const r = runCase(postconf, c, mode);
    assert.deepEqual(runCase(postconf, c, mode), r, `${c.name} -${mode} is not repeatable`);
    entry[mode] = r;
  }
  golden[c.name] = entry;
}
writeFileSync(GOLDEN_FILE, `${JSON.stringify(golden, null, 1)}\n`);
process.stdout.write(`${CASES.length} cases recorded in ${GOLDEN_FILE}\n`);
