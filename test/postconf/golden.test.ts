/*
 * postconf golden tests: every command line of test/golden/postconf/cases.txt
 * and master_params.txt (master.cf "-o" settings: unused and undefined
 * parameter warnings in every mode), recorded from Postfix 3.7.11's
 * postconf (record.py), run again with our
 * bin/postconf as a process: same stdout, stderr and exit status, and the
 * same main.cf after an edit.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN, ours, tempDir } from '../harness/index.js';
import { HOST_DEPENDENT } from './host_names.js';

interface Golden {
  case: string;
  flags: string;
  args: string[];
  stdout: string;
  stderr: string;
  status: number;
  main_cf?: string;
}

const DIR = join(GOLDEN, 'postconf');
const goldens = ['golden.json', 'master_params.json'].flatMap(
  (f) => JSON.parse(readFileSync(join(DIR, f), 'latin1')) as Golden[],
);

function withoutHostLines(text: string): string {
  return text
    .split('\n')
    .filter((l) => !HOST_DEPENDENT.has(l.split(' = ')[0] ?? ''))
    .join('\n');
}

const sorted = (text: string) => text.split('\n').sort().join('\n');

for (const g of goldens) {
  test(`postconf ${g.args.join(' ')} [${g.case}]`, (t) => {
    const cwd = tempDir(t);
    if (g.case !== '-') cpSync(join(DIR, 'cases', g.case), join(cwd, 'conf'), { recursive: true });
    const env: NodeJS.ProcessEnv = g.flags.includes('E') ? { MAIL_CONFIG: 'conf' } : {};
    const r = ours('postconf', g.args, { cwd, env });
    const host = g.flags.includes('H');
    assert.equal(host ? withoutHostLines(r.stdout) : r.stdout, host ? withoutHostLines(g.stdout) : g.stdout);
    if (g.flags.includes('U')) assert.equal(sorted(r.stderr), sorted(g.stderr));
    else assert.equal(r.stderr, g.stderr);
    assert.equal(r.status, g.status);
    if (g.main_cf !== undefined)
      assert.equal(readFileSync(join(cwd, 'conf', 'main.cf'), 'latin1'), g.main_cf);
  });
}
