/*
 * sendmail_startup - wall and CPU time of one sendmail call, ours vs Postfix's
 *
 *	npm run bench:sendmail -- [calls]		(default 100)
 *	(= npm run build && node dist/bench/sendmail_startup.js [calls])
 *
 * sendmail is started once per message, so its start-up is on every
 * message's path. Each system gets a configuration in a temporary
 * directory whose queue has no running daemons (the message waits in
 * maildrop/, the pickup trigger finds nobody). Then, one call after the
 * other, `sendmail -C <dir> -f bench@example.com u0@bench.test` with a
 * 1 KB message on standard input:
 *
 *	wall	per call, from spawn to exit (median and mean)
 *	CPU	user+system seconds of the calls (this process's reaped
 *		children; for Postfix that includes postdrop), per call
 *
 * Rows for ours: the ES modules (node dist/src/cli/sendmail.js), the
 * start-up snapshot (node --snapshot-blob dist/sendmail.blob, made by
 * npm run build), the compiled fast path (dist/sendmail-fast, see
 * docs/sendmail.md), and bin/sendmail as users run it (the shell
 * launcher picks the fast path, else the snapshot, when fresh). Also shown, as the floor
 * any Node entry point pays: `node -e 0`, and `node <empty ES module>`. Postfix's row needs /usr/sbin/sendmail and root
 * (a private configuration directory); otherwise it says it is skipped.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenCpu } from './cpu.js';
import { POSTFIX_SENDMAIL, ROOT } from './instance.js';

const calls = Number(process.argv[2] ?? '100');
if (!Number.isInteger(calls) || calls < 1 || calls > 10_000 || process.argv.length > 3) {
  process.stderr.write('usage: node dist/bench/sendmail_startup.js [calls (1-10000)]\n');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'sendmail-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
chmodSync(work, 0o755);
const MESSAGE = `Subject: start-up\n\n${'The quick brown fox jumps over the lazy dog.\n'.repeat(20)}`;

/** A configuration directory whose queue has maildrop/ and public/ and nothing running. */
function config(name: string): string {
  const dir = join(work, name);
  const conf = join(dir, 'conf');
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, 'main.cf'), `queue_directory = ${dir}/q\ndata_directory = ${dir}/data\n`);
  writeFileSync(join(conf, 'master.cf'), '');
  mkdirSync(join(dir, 'data'));
  for (const q of ['maildrop', 'public']) mkdirSync(join(dir, 'q', q), { recursive: true });
  return conf;
}

function postfixConfig(): string {
  const conf = config('postfix');
  for (const f of ['postfix-files', 'postfix-files.d', 'postfix-script', 'post-install', 'makedefs.out'])
    if (existsSync(join('/etc/postfix', f)))
      cpSync(join('/etc/postfix', f), join(conf, f), { recursive: true });
  // postdrop writes maildrop/ with the postdrop group's rights, as installed.
  const ids = (spec: string) =>
    Number(spawnSync('id', [spec, 'postfix'], { encoding: 'utf8' }).stdout.trim());
  const postdrop = Number(
    spawnSync('getent', ['group', 'postdrop'], { encoding: 'utf8' }).stdout.split(':')[2],
  );
  const q = join(conf, '../q');
  chownSync(join(q, 'maildrop'), ids('-u'), postdrop);
  chmodSync(join(q, 'maildrop'), 0o1730);
  chownSync(join(q, 'public'), ids('-u'), postdrop);
  chmodSync(join(q, 'public'), 0o710);
  return conf;
}

interface Row {
  name: string;
  medianMs: number;
  meanMs: number;
  cpuMs: number;
  failed: number;
}

function measure(name: string, argv: readonly string[], input: string): Row {
  const [cmd, ...args] = argv as [string, ...string[]];
  const walls: number[] = [];
  let failed = 0;
  const cpu0 = childrenCpu();
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'], timeout: 30_000 });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) {
      failed++;
      if (failed === 1) process.stderr.write(`${name}: exit ${r.status}: ${r.stderr.toString()}`);
    }
  }
  const cpuMs = ((childrenCpu() - cpu0) / calls) * 1000;
  walls.sort((a, b) => a - b);
  const medianMs = walls[Math.floor(walls.length / 2)] as number;
  const meanMs = walls.reduce((a, b) => a + b, 0) / walls.length;
  return { name, medianMs, meanMs, cpuMs, failed };
}

const rcpt = ['-f', 'bench@example.com', 'u0@bench.test'];
const rows: Row[] = [];
const empty = join(work, 'empty.mjs');
writeFileSync(empty, '');
rows.push(measure('node -e 0', [process.execPath, '-e', '0'], ''));
rows.push(measure('node empty.mjs', [process.execPath, empty], ''));
const ourConf = config('postroom');
const ourArgs = ['-C', ourConf, ...rcpt];
const esm = join(ROOT, 'dist/src/cli/sendmail.js');
rows.push(measure('postroom sendmail, ES modules', [process.execPath, esm, ...ourArgs], MESSAGE));
const blob = join(ROOT, 'dist/sendmail.blob');
if (existsSync(blob))
  rows.push(
    measure(
      'postroom sendmail, snapshot',
      [process.execPath, '--snapshot-blob', blob, '--', ...ourArgs],
      MESSAGE,
    ),
  );
else console.log(`${blob} is missing (npm run build): the snapshot row is skipped.`);
const fast = join(ROOT, 'dist/sendmail-fast');
if (existsSync(fast)) rows.push(measure('postroom sendmail, C fast path', [fast, ...ourArgs], MESSAGE));
else console.log(`${fast} is missing (npm run build with a C compiler): the fast path row is skipped.`);
rows.push(measure('postroom bin/sendmail', [join(ROOT, 'bin/sendmail'), ...ourArgs], MESSAGE));
if (!existsSync(POSTFIX_SENDMAIL))
  console.log('Postfix is not installed (/usr/sbin/sendmail): its row is skipped.');
else if (process.getuid?.() !== 0)
  console.log('A private Postfix configuration needs root: its row is skipped.');
else rows.push(measure('postfix sendmail', [POSTFIX_SENDMAIL, '-C', postfixConfig(), ...rcpt], MESSAGE));

const fmt = (x: number) => x.toFixed(1);
const table = [
  ['command', 'wall median ms', 'wall mean ms', 'CPU ms/call', 'failed'],
  ...rows.map((r) => [r.name, fmt(r.medianMs), fmt(r.meanMs), fmt(r.cpuMs), String(r.failed)]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
console.log(`${calls} calls each, one after the other`);
console.log(
  table
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n'),
);
const ours = rows.find((r) => r.name === 'postroom bin/sendmail');
const theirs = rows.find((r) => r.name === 'postfix sendmail');
if (ours && theirs)
  console.log(
    `postroom/postfix: wall ${(ours.medianMs / theirs.medianMs).toFixed(1)}x, CPU ${(ours.cpuMs / theirs.cpuMs).toFixed(1)}x`,
  );
if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
