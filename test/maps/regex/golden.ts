/*
 * Golden cases for regexp: and pcre: tables, shared by the test and by the
 * recorder. Each case under test/golden/maps/<type>/ is a table
 * <case>.<type> with keys in <case>.in (answered by "postmap -q -": stdout
 * in <case>.ref, stderr in <case>.err) and/or keys with escapes (\n, \t,
 * \\) in <case>.nl, one "postmap -q KEY" each, results in <case>.nlref.
 * Postfix runs with the golden directory as its working directory and
 * relative table names, so the file names in warnings are the same for
 * every checkout.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, type Run, run } from '../../harness/index.js';

export const TYPES = ['regexp', 'pcre'] as const;

export type Case = { type: string; name: string; dir: string; table: string; keys?: string; nl?: string[] };

export function goldenCases(type: string): Case[] {
  const dir = join(GOLDEN, 'maps', type);
  return readdirSync(dir)
    .filter((f) => f.endsWith(`.${type}`))
    .sort()
    .map((table) => {
      const name = table.slice(0, -type.length - 1);
      const c: Case = { type, name, dir, table };
      if (existsSync(join(dir, `${name}.in`))) c.keys = readFileSync(join(dir, `${name}.in`), 'utf8');
      if (existsSync(join(dir, `${name}.nl`)))
        c.nl = readFileSync(join(dir, `${name}.nl`), 'utf8')
          .split('\n')
          .filter(Boolean);
      return c;
    });
}

/** "\n", "\t", "\\" in a .nl line. */
export const decodeKey = (s: string): string =>
  s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));

/** One .nlref line from a single-key query. */
export function nlLine(escaped: string, r: Run): string {
  if (r.status === 0) return `${escaped}\t${r.stdout.replace(/\n$/, '')}`;
  if (r.status === 1) return `${escaped}: not found`;
  return `${escaped}: exit ${r.status}`;
}

/** Run a postmap (ours or Postfix's) over a case, as the golden files record it. */
export function queryAll(postmap: string, confDir: string, c: Case): Run {
  return run(postmap, ['-c', confDir, '-q', '-', `${c.type}:${c.table}`], {
    input: c.keys ?? '',
    cwd: c.dir,
  });
}

export function queryEach(postmap: string, confDir: string, c: Case): string {
  return (c.nl ?? [])
    .map((k) =>
      nlLine(k, run(postmap, ['-c', confDir, '-q', decodeKey(k), `${c.type}:${c.table}`], { cwd: c.dir })),
    )
    .join('\n')
    .concat('\n');
}
