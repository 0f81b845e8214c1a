/*
 * postmap_bench - building and querying big indexed tables, ours vs Postfix
 *
 *	node dist/bench/postmap_bench.js [lines]       (default 1000000)
 *
 * Makes a table of random keys and values in a temporary directory, builds
 * it with our postmap (hash, lmdb) and with Postfix's /usr/sbin/postmap
 * when installed, then looks up as many random keys (half of them present)
 * through our Dict interface and through Postfix's "postmap -q -". Prints
 * seconds, rates and the ratio Postfix/ours (above 1: we are faster).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_FLAGS } from '../src/maps/dict.js';
import { openDict } from '../src/maps/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUR_POSTMAP = join(ROOT, 'bin/postmap');
const POSTFIX_POSTMAP = '/usr/sbin/postmap';

const lines = Number.parseInt(process.argv[2] ?? '1000000', 10);
if (!(lines > 0)) {
  console.error('usage: node dist/bench/postmap_bench.js [lines]');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'postmap-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function time<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

function sh(cmd: string, args: string[], stdinFile?: string): void {
  const r = spawnSync(cmd, args, {
    stdio: [stdinFile ? openSync(stdinFile, 'r') : 'ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
}

console.log(`generating ${lines} lines in ${work}`);
const keys: string[] = new Array(lines);
const rows: string[] = new Array(lines);
for (let i = 0; i < lines; i++) {
  const b = randomBytes(14).toString('hex');
  keys[i] = `${b.slice(0, 16)}@example.com`;
  rows[i] = `${keys[i]} ${b.slice(16)}`;
}
const queries: string[] = new Array(lines);
for (let i = 0; i < lines; i++) {
  queries[i] =
    i % 2 === 0 ? keys[Math.floor(Math.random() * lines)]! : `${randomBytes(8).toString('hex')}@example.net`;
}
const source = rows.join('\n') + '\n';
rows.length = 0;
const keyFile = join(work, 'queries');
writeFileSync(keyFile, queries.join('\n') + '\n');
const dirs = { ours: join(work, 'ours'), postfix: join(work, 'postfix') };
for (const d of Object.values(dirs)) {
  mkdirSync(d);
  writeFileSync(join(d, 'main.cf'), '');
  writeFileSync(join(d, 'table'), source);
}

type Row = { what: string; ours?: number; postfix?: number; unit: 's' | '/s' };
const results: Row[] = [];
const havePostfix = existsSync(POSTFIX_POSTMAP);
if (!havePostfix) console.log(`Postfix's postmap is missing (${POSTFIX_POSTMAP}): measuring ours only`);

for (const type of ['hash', 'lmdb']) {
  const spec = (who: keyof typeof dirs) => `${type}:${join(dirs[who], 'table')}`;
  const [, ours] = time(() => sh(OUR_POSTMAP, ['-c', dirs.ours, spec('ours')]));
  const row: Row = { what: `build ${type} (${lines} lines)`, ours, unit: 's' };
  if (havePostfix) row.postfix = time(() => sh(POSTFIX_POSTMAP, ['-c', dirs.postfix, spec('postfix')]))[1];
  results.push(row);

  const dict = await openDict(spec('ours'), READ_FLAGS);
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (const q of queries) if ((await dict.lookup(q)).kind === 'found') found++;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await dict.close();
  if (Math.abs(found - lines / 2) > lines * 0.01 + 1) throw new Error(`${type}: ${found} of ${lines} found`);
  const q: Row = { what: `lookups ${type} (Dict; postmap -q -)`, ours: lines / secs, unit: '/s' };
  if (havePostfix) {
    const [, pf] = time(() => sh(POSTFIX_POSTMAP, ['-c', dirs.postfix, '-q', '-', spec('postfix')], keyFile));
    q.postfix = lines / pf;
  }
  results.push(q);
  // The same through our command, for a like-for-like process comparison.
  const [, cmd] = time(() => sh(OUR_POSTMAP, ['-c', dirs.ours, '-q', '-', spec('ours')], keyFile));
  results.push({
    what: `lookups ${type} (postmap -q -)`,
    ours: lines / cmd,
    ...(q.postfix ? { postfix: q.postfix } : {}),
    unit: '/s',
  });
}

const fmt = (v: number | undefined, unit: string) =>
  v === undefined ? '-' : unit === 's' ? `${v.toFixed(2)} s` : `${Math.round(v).toLocaleString('en')} /s`;
const table = results.map((r) => {
  let ratio = '-';
  if (r.ours !== undefined && r.postfix !== undefined) {
    ratio = (r.unit === 's' ? r.postfix / r.ours : r.ours / r.postfix).toFixed(2) + 'x';
  }
  return [r.what, fmt(r.ours, r.unit), fmt(r.postfix, r.unit), ratio];
});
const head = ['measure', 'Postroom', 'Postfix', 'Postroom advantage'];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(head));
for (const r of table) console.log(line(r));
