/*
 * Records the golden files of test/golden/maps/{regexp,pcre} from Postfix's
 * own postmap (run by hand after adding a case):
 *   npx tsc -p . && node dist/test/maps/regex/record.js
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenCases, queryAll, queryEach, TYPES } from './golden.js';

const POSTMAP = '/usr/sbin/postmap';
const conf = mkdtempSync(join(tmpdir(), 'postroom-record-'));
writeFileSync(join(conf, 'main.cf'), '');
try {
  for (const type of TYPES) {
    for (const c of goldenCases(type)) {
      if (c.keys !== undefined) {
        const r = queryAll(POSTMAP, conf, c);
        if (r.status !== 0) throw new Error(`${c.table}: postmap exit ${r.status}`);
        writeFileSync(join(c.dir, `${c.name}.ref`), r.stdout);
        writeFileSync(join(c.dir, `${c.name}.err`), r.stderr);
      }
      if (c.nl) writeFileSync(join(c.dir, `${c.name}.nlref`), queryEach(POSTMAP, conf, c));
      console.log(`recorded ${type}/${c.name}`);
    }
  }
} finally {
  rmSync(conf, { recursive: true, force: true });
}
