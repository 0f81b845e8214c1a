/*
 * Start Postroom daemons stand-alone in tests: a queue directory with its
 * public/private directories, a main.cf pointing at it, and a process
 * whose socket we wait for. Every process started here is killed (by PID)
 * when the test ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadMainConfig, type MainConfig } from '../../src/global/config.js';
import { createQueueDirs, queueLayout } from '../../src/global/queue_dirs.js';
import { configDir, ROOT, tempDir } from './index.js';

export interface TestQueue {
  readonly base: string;
  readonly configDir: string;
  readonly queueDir: string;
  readonly maillog: string;
  readonly cfg: MainConfig;
}

/** A queue under a fresh directory; `mainCf` is appended to the queue settings. */
export async function testQueue(t: TestContext, mainCf = '', masterCf?: string): Promise<TestQueue> {
  const base = tempDir(t, 'postroom-queue-');
  const queueDir = join(base, 'queue');
  const maillog = join(base, 'maillog');
  const conf = configDir(
    t,
    `queue_directory = ${queueDir}\nmaillog_file = ${maillog}\nmaillog_file_prefixes = ${base}\nmyhostname = host.example\n${mainCf}`,
    masterCf,
  );
  const cfg = loadMainConfig({ configDir: conf });
  await createQueueDirs(queueLayout(cfg));
  for (const d of ['public', 'private', 'pid']) mkdirSync(join(queueDir, d), { recursive: true });
  return { base, configDir: conf, queueDir, maillog, cfg };
}

/** Run dist/<script> with MAIL_CONFIG and wait until `socket` exists. */
export async function startDaemon(
  t: TestContext,
  q: TestQueue,
  script: string,
  args: readonly string[],
  socket: string,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', script), ...args], {
    env: { ...process.env, MAIL_CONFIG: q.configDir, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b) => (stderr += b));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const path = join(q.queueDir, socket);
  for (let i = 0; i < 200 && !existsSync(path); i++) {
    if (child.exitCode !== null) throw new Error(`${script} exited ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!existsSync(path)) throw new Error(`${script}: no ${path} after 5 s: ${stderr}`);
  return child;
}
