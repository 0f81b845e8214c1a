/*
 * daemon_fixture - a temp queue with our cleanup (and pickup) daemons
 * running stand-alone on it, for tests that drive them as processes
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { createQueueDirs, queueLayout, scanQueue } from '../../src/global/queue_dirs.js';
import { openQueueFile, type QueueFileReader } from '../../src/global/queue_file_reader.js';
import { triggerPath } from '../../src/master/trigger.js';
import { configDir, ours, ROOT, type Run, tempDir } from '../harness/index.js';

export const MASTER_CF = [
  'pickup    unix  n       -       y       60      1       pickup',
  'cleanup   unix  n       -       y       -       0       cleanup',
  'bounce    unix  -       -       y       -       0       bounce',
  '',
].join('\n');

export interface Fixture {
  readonly conf: string;
  readonly queue: string;
  readonly maillog: string;
  readonly env: NodeJS.ProcessEnv;
  start(daemon: 'cleanup' | 'pickup' | 'bounce'): Promise<ChildProcess>;
  sendmail(args: readonly string[], input: string): Run;
  /** Wake pickup (our sendmail does not trigger it). */
  kick(): Promise<boolean>;
  /** Wait until `queue` holds `n` files; their paths. */
  waitFiles(queue: string, n: number, timeoutMs?: number): Promise<string[]>;
  /** Wait until `queue` is empty (pickup removes a maildrop file just after cleanup's reply). */
  waitEmpty(queue: string, timeoutMs?: number): Promise<void>;
  log(): string;
  waitLog(re: RegExp, timeoutMs?: number): Promise<string>;
}

export async function daemonSetup(t: TestContext, extraMainCf = ''): Promise<Fixture> {
  const base = tempDir(t, 'postroom-cleanup-');
  const queue = join(base, 'q');
  const maillog = join(base, 'maillog');
  const conf = configDir(
    t,
    [
      `queue_directory = ${queue}`,
      'myhostname = mx.example.com',
      'mydomain = example.com',
      `maillog_file = ${maillog}`,
      `maillog_file_prefixes = ${base}`,
      extraMainCf,
      '',
    ].join('\n'),
    MASTER_CF,
  );
  const layout = queueLayout(loadMainConfig({ configDir: conf }));
  await createQueueDirs(layout);
  mkdirSync(join(queue, 'public'), { recursive: true });
  mkdirSync(join(queue, 'private'), { recursive: true });
  const env = { MAIL_CONFIG: conf, TZ: 'UTC' };
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
  const fx: Fixture = {
    conf,
    queue,
    maillog,
    env,
    async start(daemon) {
      const child = spawn(
        process.execPath,
        [join(ROOT, `dist/src/${daemon}/main.js`), '-n', daemon, '-t', 'unix'],
        {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const sock = join(queue, daemon === 'bounce' ? 'private' : 'public', daemon);
      const until = Date.now() + 10_000;
      while (!existsSync(sock)) {
        if (child.exitCode !== null || Date.now() > until)
          throw new Error(`${daemon} did not start: ${stderr || `exit ${child.exitCode}`}`);
        await sleep(20);
      }
      return child;
    },
    sendmail(args, input) {
      return ours('sendmail', args, { input, env });
    },
    kick() {
      return triggerPath(join(queue, 'public', 'pickup'), 'W');
    },
    async waitFiles(q, n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found: string[] = [];
        for await (const f of scanQueue(layout, q)) found.push(f.path);
        if (found.length >= n || Date.now() > until) return found.sort();
        await sleep(25);
      }
    },
    async waitEmpty(q, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found: string[] = [];
        for await (const f of scanQueue(layout, q)) found.push(f.path);
        if (found.length === 0 || Date.now() > until) return;
        await sleep(25);
      }
    },
    log() {
      return existsSync(maillog) ? readFileSync(maillog, 'utf8') : '';
    },
    async waitLog(re, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const text = fx.log();
        if (re.test(text) || Date.now() > until) return text;
        await sleep(25);
      }
    },
  };
  return fx;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface ReadBack {
  readonly file: QueueFileReader;
  readonly content: string;
  readonly headers: string;
}

/** Open a queue file and read its content (latin1: bytes as chars). */
export async function readQueueFile(path: string): Promise<ReadBack> {
  const r = await openQueueFile(path);
  if (!r.ok) throw r.error;
  const parts: Buffer[] = [];
  for await (const b of r.file.contentBytes()) parts.push(b);
  await r.file.close();
  const content = Buffer.concat(parts).toString('latin1');
  const end = content.indexOf('\n\n');
  return { file: r.file, content, headers: end < 0 ? content : content.slice(0, end + 1) };
}

/** Log lines with the variable parts (time, host, pid, queue IDs, dates) replaced. */
export function normalizeLog(text: string, ids: readonly string[]): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      let s = l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ /, '').replace(/\[\d+\]:/, '[PID]:');
      ids.forEach((id, i) => {
        s = s.split(id).join(`ID${i}`);
      });
      return s.replace(/\d{14}\./g, 'STAMP.');
    });
}
