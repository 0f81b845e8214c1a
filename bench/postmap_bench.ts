/*
 * postmap_bench - building and querying big indexed tables, ours vs Postfix
 *
 *	npm run build && node dist/bench/postmap_bench.js [lines]   (default 1000000)
 *
 * Makes a table of random keys and values in a temporary directory and,
 * for each indexed type (hash, lmdb), measures with our postmap and with
 * Postfix's /usr/sbin/postmap when it is installed:
 *
 *	build		postmap type:table, seconds for the whole command
 *	lookups		as many random keys as lines (half of them present):
 *			through our Dict interface in this process, and through
 *			one "postmap -q -" process reading them on stdin
 *	spawns		one "postmap -q key" process per key (SPAWNS keys),
 *			what a script calling postmap pays per lookup
 *
 * Prints one table: the figure for Postroom, for Postfix, and how many
 * times better ours is (above 1: Postroom is faster). The last rows set
 * lookups through the Dict against spawning Postfix's postmap per key.
 * Postfix missing, or a type it cannot build, shows as "missing".
 * At the default size the whole run takes about a minute.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_FLAGS } from '../src/maps/dict.js';
import { openDict } from '../src/maps/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUR_POSTMAP = join(ROOT, 'bin/postmap');
const POSTFIX_POSTMAP = '/usr/sbin/postmap';
const SPAWNS = 200;
const TYPES = ['hash', 'lmdb'] as const;

const lines = Number.parseInt(process.argv[2] ?? '1000000', 10);
if (!(lines > 0) || process.argv.length > 3) {
  console.error('usage: node dist/bench/postmap_bench.js [lines]');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist/src/cli/postmap.js'))) {
  console.error('dist/src/cli/postmap.js is missing: run "npm run build" first');
  process.exit(2);
}
const havePostfix = existsSync(POSTFIX_POSTMAP);

const work = mkdtempSync(join(tmpdir(), 'postmap-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** Seconds taken by a command (stdin from a file or nothing); throws on failure. */
function timed(cmd: string, args: string[], stdinFile?: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: [stdinFile ? openSync(stdinFile, 'r') : 'ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  // postmap -q exits 1 for "not found"; anything on stderr is a real failure.
  if (r.error || (r.status !== 0 && r.status !== 1) || r.stderr.length > 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.error?.message ?? r.stderr}`);
  }
  return secs;
}

/** A Postfix measurement, or undefined (shown as "missing") when Postfix cannot do it. */
function postfix(f: () => number): number | undefined {
  if (!havePostfix) return undefined;
  try {
    return f();
  } catch (e) {
    console.log(`Postfix: ${(e as Error).message.trim()}`);
    return undefined;
  }
}

console.log(`generating ${lines} lines in ${work}`);
if (!havePostfix) console.log(`Postfix's postmap is missing (${POSTFIX_POSTMAP}): measuring ours only`);
const keys: string[] = new Array(lines);
const rows: string[] = new Array(lines);
for (let i = 0; i < lines; i++) {
  const b = randomBytes(14).toString('hex');
  keys[i] = `${b.slice(0, 16)}@example.com`;
  rows[i] = `${keys[i]} ${b.slice(16)}`;
}
const pick = () => keys[Math.floor(Math.random() * lines)]!;
const absent = () => `${randomBytes(8).toString('hex')}@example.net`;
const keyFile = join(work, 'queries');
writeFileSync(
  keyFile,
  `${Array.from({ length: lines }, (_, i) => (i % 2 === 0 ? pick() : absent())).join('\n')}\n`,
);
// Read back, as a daemon gets its keys: flat strings, not the concatenations made above.
const queries = readFileSync(keyFile, 'utf8').split('\n', lines);
const spawnKeys = Array.from({ length: Math.min(SPAWNS, lines) }, (_, i) =>
  i % 2 === 0 ? pick() : absent(),
);
const source = `${rows.join('\n')}\n`;
rows.length = 0;
const dirs = { ours: join(work, 'ours'), postfix: join(work, 'postfix') };
for (const d of Object.values(dirs)) {
  mkdirSync(d);
  writeFileSync(join(d, 'main.cf'), '');
  // Postfix's commands pause ~2 s after a recent main.cf change (a writer may be busy).
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(d, 'main.cf'), past, past);
  writeFileSync(join(d, 'table'), source);
}

type Row = { what: string; ours?: number; postfix?: number; unit: 's' | '/s' };
const results: Row[] = [];
const dictRates = new Map<string, number>();
const spawnRates = new Map<string, number | undefined>();

for (const type of TYPES) {
  const spec = (who: keyof typeof dirs) => `${type}:${join(dirs[who], 'table')}`;
  const ours = timed(OUR_POSTMAP, ['-c', dirs.ours, spec('ours')]);
  const pfBuild = postfix(() => timed(POSTFIX_POSTMAP, ['-c', dirs.postfix, spec('postfix')]));
  results.push({ what: `build ${type} (${lines} lines)`, ours, postfix: pfBuild, unit: 's' });

  const dict = await openDict(spec('ours'), READ_FLAGS);
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (const q of queries) if ((await dict.lookup(q)).kind === 'found') found++;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await dict.close();
  if (Math.abs(found - lines / 2) > lines * 0.01 + 1) throw new Error(`${type}: ${found} of ${lines} found`);
  const pfStream =
    pfBuild === undefined
      ? undefined
      : postfix(
          () => lines / timed(POSTFIX_POSTMAP, ['-c', dirs.postfix, '-q', '-', spec('postfix')], keyFile),
        );
  dictRates.set(type, lines / secs);
  results.push({
    what: `lookups ${type}: Dict vs postmap -q -`,
    ours: lines / secs,
    postfix: pfStream,
    unit: '/s',
  });
  const cmd = timed(OUR_POSTMAP, ['-c', dirs.ours, '-q', '-', spec('ours')], keyFile);
  results.push({ what: `lookups ${type}: postmap -q -`, ours: lines / cmd, postfix: pfStream, unit: '/s' });

  const spawnAll = (postmap: string, dir: string, table: string) => {
    let total = 0;
    for (const k of spawnKeys) total += timed(postmap, ['-c', dir, '-q', k, table]);
    return spawnKeys.length / total;
  };
  const oursSpawn = spawnAll(OUR_POSTMAP, dirs.ours, spec('ours'));
  const pfSpawn =
    pfBuild === undefined
      ? undefined
      : postfix(() => spawnAll(POSTFIX_POSTMAP, dirs.postfix, spec('postfix')));
  spawnRates.set(type, pfSpawn);
  results.push({
    what: `lookups ${type}: postmap -q key, spawned`,
    ours: oursSpawn,
    postfix: pfSpawn,
    unit: '/s',
  });
}
for (const type of TYPES) {
  results.push({
    what: `lookups ${type}: Dict vs spawned Postfix`,
    ours: dictRates.get(type),
    postfix: spawnRates.get(type),
    unit: '/s',
  });
}

const fmt = (v: number | undefined, unit: string) =>
  v === undefined
    ? 'missing'
    : unit === 's'
      ? `${v.toFixed(2)} s`
      : `${Math.round(v).toLocaleString('en')} /s`;
const table = results.map((r) => {
  let ratio = '-';
  if (r.ours !== undefined && r.postfix !== undefined) {
    ratio = `${(r.unit === 's' ? r.postfix / r.ours : r.ours / r.postfix).toFixed(2)}x`;
  }
  return [r.what, fmt(r.ours, r.unit), fmt(r.postfix, r.unit), ratio];
});
const head = ['measure', 'Postroom', 'Postfix', 'Postroom advantage'];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(head));
for (const r of table) console.log(line(r));
