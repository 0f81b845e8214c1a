/*
 * Fixtures for the admin command tests: a configuration whose queue lives
 * in a temporary directory (logging to a maillog there), messages written
 * with Postroom's queue file writer, and golden-file helpers.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadMainConfig, type MainConfig } from '../../src/global/config.js';
import {
  createQueueDirs,
  moveQueueFile,
  type QueueLayout,
  queueFilePath,
  queueLayout,
} from '../../src/global/queue_dirs.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { configDir, GOLDEN, ROOT, type Run, tempDir } from '../harness/index.js';

export const G = join(GOLDEN, 'admin');

export interface Site {
  readonly dir: string;
  readonly conf: string;
  readonly queue: string;
  readonly maillog: string;
  readonly cfg: MainConfig;
  readonly layout: QueueLayout;
}

/** A configuration and an empty queue (public/ and private/ included). */
export async function site(t: TestContext, extra = ''): Promise<Site> {
  const dir = tempDir(t, 'postroom-admin-');
  const queue = join(dir, 'queue');
  const maillog = join(dir, 'maillog');
  const conf = configDir(
    t,
    `queue_directory = ${queue}\nmaillog_file_prefixes = ${dir}\nmaillog_file = ${maillog}\n${extra}`,
    'showq     unix  n       -       n       -       -       showq\n',
  );
  const cfg = loadMainConfig({ configDir: conf });
  const layout = queueLayout(cfg);
  await createQueueDirs(layout);
  mkdirSync(join(queue, 'public'));
  mkdirSync(join(queue, 'private'));
  return { dir, conf, queue, maillog, cfg, layout };
}

export interface MessageSpec {
  readonly queue: string;
  readonly arrival?: number;
  readonly sender?: string;
  readonly recipients?: readonly (string | QueueRecipient)[];
  readonly body?: string;
  /** Recipients to mark done. */
  readonly done?: readonly string[];
}

/** Write a message with the queue file writer and move it to its queue; its queue ID. */
export async function message(layout: QueueLayout, m: MessageSpec): Promise<string> {
  const w = await createQueueFile(layout);
  await w.envelope({
    arrival: { sec: m.arrival ?? Math.floor(Date.now() / 1000), usec: 0 },
    sender: m.sender ?? 'sender@example.com',
    recipients: (m.recipients ?? ['rcpt@example.com']).map((r) =>
      typeof r === 'string' ? { address: r } : r,
    ),
  });
  await w.content(Buffer.from(m.body ?? 'Subject: test\n\nhello\n'));
  const id = await w.commit();
  if (m.done && m.done.length > 0) {
    const r = await openQueueFile(queueFilePath(layout, 'incoming', id), { write: true });
    if (!r.ok) throw r.error;
    for (const rc of r.file.recipients) if (m.done.includes(rc.address)) await r.file.markDone(rc);
    await r.file.close();
  }
  if (m.queue !== 'incoming') await moveQueueFile(layout, 'incoming', m.queue, id);
  return id;
}

/** A run in the golden files' layout: stdout, stderr and exit sections. */
export function sections(r: Run): string {
  return `stdout:\n${r.stdout}stderr:\n${r.stderr}exit: ${r.status}\n`;
}

export function golden(name: string): string {
  return readFileSync(join(G, name), 'utf8');
}

/** Replace each queue ID by its role name, and the site directory by $DIR. */
export function normalize(text: string, roles: Readonly<Record<string, string>>, dir?: string): string {
  let out = dir === undefined ? text : text.split(dir).join('$DIR');
  for (const [role, id] of Object.entries(roles)) out = out.split(id).join(role);
  return out;
}

/** Maillog lines without time, host and pid, as the goldens keep them. */
export function logLines(path: string): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `${l.replace(/^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \S+ /, '').replace(/\[\d+\]:/, ':')}\n`)
    .join('');
}

/** Start a service of ours by hand (no master) and wait for its socket; stopped after the test. */
export async function startService(
  t: TestContext,
  s: Site,
  command: string,
  name: string,
  cls: string,
): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist/src', command, 'main.js'), '-n', name, '-t', 'unix'],
    {
      env: { ...process.env, MAIL_CONFIG: s.conf },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  t.after(() => {
    child.kill();
  });
  const path = join(s.queue, cls, name);
  for (let i = 0; i < 200 && !existsSync(path); i++) {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!existsSync(path)) throw new Error(`${command} did not listen on ${path}: ${err}`);
}

/** A stand-in qmgr: a listener on public/qmgr that keeps the trigger bytes it gets. */
export async function fakeQmgr(t: TestContext, s: Site): Promise<{ bytes: () => string; server: Server }> {
  let got = '';
  const server = createServer((sock) => {
    sock.on('data', (d) => (got += d.toString('latin1')));
  });
  await new Promise<void>((r) => server.listen(join(s.queue, 'public', 'qmgr'), r));
  t.after(() => server.close());
  return { bytes: () => got, server };
}
