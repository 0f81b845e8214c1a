/*
 * Record the golden transcripts of cases.ts from Postfix's own commands:
 *	node dist/test/postmap/record.js [case-name...]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CASES, goldenPath, postfixRunner, transcript } from './cases.js';

const only = process.argv.slice(2);
const runner = postfixRunner((name) => (name === 'newaliases' ? '/usr/bin/newaliases' : `/usr/sbin/${name}`));
for (const c of CASES) {
  if (only.length > 0 && !only.includes(c.name)) continue;
  const path = goldenPath(c);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, transcript(c, runner));
  console.log(`recorded ${path}`);
}
