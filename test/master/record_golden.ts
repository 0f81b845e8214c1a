/*
 * Record test/golden/master/<case>/expected.json from Postfix's postconf:
 *	npx tsc -p . && node dist/test/master/record_golden.js [/usr/sbin/postconf]
 * Not a test; run it by hand when cases change, then review the diff.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseArgs, caseNames, MASTER_GOLDEN, runCase } from './golden.js';

const postconf = process.argv[2] ?? '/usr/sbin/postconf';
for (const name of caseNames()) {
  const outcomes = caseArgs(name).map((args) => runCase(postconf, name, args));
  writeFileSync(join(MASTER_GOLDEN, name, 'expected.json'), `${JSON.stringify(outcomes, null, 1)}\n`);
}
