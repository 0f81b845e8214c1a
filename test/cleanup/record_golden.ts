/*
 * Record the lookup-key transcripts of cases.ts from Postfix's postmap:
 *	node dist/test/cleanup/record_golden.js
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../harness/index.js';
import { CASES, goldenPath, transcript } from './cases.js';

for (const c of CASES) {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-record-'));
  const text = transcript(c, dir, (args) => run('/usr/sbin/postmap', args, { input: c.message }));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(goldenPath(c)), { recursive: true });
  writeFileSync(goldenPath(c), text);
  console.log(`recorded ${goldenPath(c)}`);
}
