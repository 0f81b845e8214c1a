/*
 * A throw-away Postroom instance for master tests: configuration, queue,
 * data directory and log under one temp directory, and a daemon directory
 * holding master, postlogd and the test services of fixtures/.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../harness/index.js';

export interface Instance {
  /** Process groups (masters) to kill when the test ends, before the directory goes. */
  readonly groups: number[];
  readonly dir: string;
  readonly etc: string;
  readonly queue: string;
  readonly log: string;
  readonly daemons: string;
}

const FIXTURES = join(ROOT, 'dist/test/master/fixtures');
export const MASTER_JS = join(ROOT, 'dist/src/master/main.js');

export function makeInstance(
  t: TestContext,
  masterCf: string,
  mainExtra = '',
  owner?: { uid: number; gid: number },
): Instance {
  // Not the harness's tempDir: its removal would run before hooks added later, with
  // the instance still writing into the directory. One hook: kill, then remove.
  const dir = mkdtempSync(join(tmpdir(), 'postroom-master-'));
  const groups: number[] = [];
  t.after(() => {
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // As root, unprivileged services run as mail_owner: they must reach the configuration.
  chmodSync(dir, 0o755);
  const etc = join(dir, 'etc');
  const daemons = join(dir, 'daemons');
  mkdirSync(etc);
  mkdirSync(daemons);
  for (const f of ['echo', 'tick', 'badstart']) symlinkSync(join(FIXTURES, f), join(daemons, f));
  symlinkSync(join(ROOT, 'dist/src/postlogd'), join(daemons, 'postlogd'));
  symlinkSync(join(ROOT, 'dist/src/master'), join(daemons, 'master'));
  const inst = { groups, dir, etc, queue: join(dir, 'queue'), log: join(dir, 'maillog'), daemons };
  writeFileSync(
    join(etc, 'main.cf'),
    `queue_directory = ${inst.queue}
data_directory = ${dir}/data
daemon_directory = ${daemons}
maillog_file = ${inst.log}
maillog_file_prefixes = ${dir}
myhostname = mx.example.com
inet_interfaces = 127.0.0.1
service_throttle_time = 2s
${mainExtra}`,
  );
  writeFileSync(join(etc, 'master.cf'), `postlog unix-dgram n - n - 1 postlogd\n${masterCf}`);
  if (owner)
    for (const p of [dir, etc, daemons, join(etc, 'main.cf'), join(etc, 'master.cf')])
      chownSync(p, owner.uid, owner.gid);
  return inst;
}

export function readLog(inst: Instance): string {
  return existsSync(inst.log) ? readFileSync(inst.log, 'utf8') : '';
}

/** What the processes wrote to stderr (crash traces), for assertion messages. */
export function stderrOf(inst: Instance): string {
  const f = join(inst.dir, 'stderr');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/** Wait until the log matches `re` (at most `ms`); the matching log. */
export async function waitLog(inst: Instance, re: RegExp, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const text = readLog(inst);
    if (re.test(text)) return text;
    if (Date.now() > end) {
      const err = existsSync(join(inst.dir, 'stderr')) ? readFileSync(join(inst.dir, 'stderr'), 'utf8') : '';
      throw new Error(`log never matched ${re}:\n${text}\nstderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run master in the foreground; killed (its whole group) after the test. */
export function startMaster(inst: Instance, args: string[] = []): ChildProcess {
  // The processes' stderr (crash traces) is kept for a failing test's message.
  const err = openSync(join(inst.dir, 'stderr'), 'a');
  const child = spawn(process.execPath, [MASTER_JS, '-c', inst.etc, ...args], {
    stdio: ['ignore', 'ignore', err],
    detached: true,
  });
  closeSync(err);
  if (child.pid) inst.groups.push(child.pid);
  return child;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** A client connection: the lines it has read so far, and a way to send and close. */
export interface Client {
  readonly lines: string[];
  send(text: string): void;
  close(): void;
  closed: Promise<void>;
  waitLines(n: number, ms?: number): Promise<string[]>;
}

export function client(target: string | { host: string; port: number }): Client {
  const sock = typeof target === 'string' ? connect(target) : connect(target.port, target.host);
  const lines: string[] = [];
  let buf = '';
  sock.on('error', () => {});
  sock.on('data', (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  return {
    lines,
    send: (text) => sock.write(text),
    close: () => sock.end(),
    closed,
    async waitLines(n, ms = 10_000) {
      const end = Date.now() + ms;
      while (lines.length < n) {
        if (Date.now() > end) throw new Error(`only ${lines.length} lines: ${lines.join('|')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return lines;
    },
  };
}

/** True while a process with this pid runs (a zombie nobody reaps does not count). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return true;
  }
}

/** A master started some other way (postfix start): killed with the instance. */
export function adopt(inst: Instance, pid: number): void {
  inst.groups.push(pid);
}

/** The pids that log lines "program[pid]" show for `program`. */
export function logPids(log: string, program: string): number[] {
  const re = new RegExp(`${program}\\[(\\d+)\\]`, 'g');
  return [...new Set([...log.matchAll(re)].map((m) => Number(m[1])))];
}

/** Run a command on a pseudo-terminal (util-linux script), as Postfix's goldens were recorded. */
export function onTerminal(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { out: string; status: number | null } | null {
  const quoted = [cmd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', `${quoted} 2>&1`, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  if (r.error) return null;
  return { out: r.stdout.replaceAll('\r', ''), status: r.status };
}
