/*
 * Test helper: the bounce program as a process on a temporary queue, with
 * a fake cleanup service of our own that stores what it is given.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeBounceClients } from '../../src/global/bounce_client.js';
import { REC_CLEANUP_FLAGS } from '../../src/global/cleanup_client.js';
import { loadMainConfig, type MainConfig } from '../../src/global/config.js';
import { createQueueDirs, type QueueLayout, queueLayout } from '../../src/global/queue_dirs.js';
import { type QueueRecipient, REC } from '../../src/global/queue_file.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { readRecords, writeRecord } from '../../src/global/record_stream.js';
import { configDir, ROOT, tempDir } from '../harness/index.js';

const MAIN = join(ROOT, 'dist/src/bounce/main.js');

/** One message cleanup received. */
export interface Submitted {
  flags: number;
  sender: string;
  recipients: string[];
  attributes: string[];
  content: string;
}

export interface FakeCleanup {
  readonly messages: Submitted[];
  /** Connections opened (a notice that is cancelled opens none). */
  connections: number;
  /**
   * What to answer: 0 takes the message; > 0 refuses it with this status;
   * "drop" closes every connection at once; "hang" never answers.
   */
  status: number | 'drop' | 'hang';
}

export interface Setup {
  readonly dir: string;
  readonly cfg: MainConfig;
  readonly layout: QueueLayout;
  readonly cleanup: FakeCleanup;
  readonly maillog: string;
  /** Start one of the three services. */
  start(service: 'bounce' | 'defer' | 'trace'): Promise<ChildProcess>;
  /** The maillog so far. */
  log(): string;
  /** Wait until the maillog matches (the writer may lag the reply a little). */
  waitLog(re: RegExp): Promise<string>;
}

let nextId = 0x100;

function fakeCleanup(t: TestContext, path: string): FakeCleanup {
  const state: FakeCleanup = { messages: [], connections: 0, status: 0 };
  const server: Server = createServer((sock) => {
    state.connections++;
    sock.on('error', () => {});
    if (state.status === 'drop') {
      sock.destroy();
      return;
    }
    if (state.status === 'hang') {
      sock.resume();
      t.after(() => sock.destroy());
      return;
    }
    const status = state.status;
    void (async () => {
      const m: Submitted = { flags: -1, sender: '', recipients: [], attributes: [], content: '' };
      const content: Buffer[] = [];
      const id = `C0FFEE${(nextId++).toString(16).toUpperCase()}`;
      try {
        for await (const r of readRecords(sock)) {
          const text = r.data.toString('utf8');
          if (r.type === REC_CLEANUP_FLAGS) {
            m.flags = Number(text);
            await writeRecord(sock, REC.ATTR, `queue_id=${id}`);
          } else if (r.type === REC.FROM) m.sender = text;
          else if (r.type === REC.RCPT) m.recipients.push(text);
          else if (r.type === REC.ATTR) m.attributes.push(text);
          else if (r.type === REC.CONT || r.type === REC.NORM) content.push(r.data);
          else if (r.type === REC.END) {
            m.content = Buffer.concat(content).toString('utf8');
            if (status === 0) state.messages.push(m);
            await writeRecord(sock, REC.ATTR, `status=${status}`);
            await writeRecord(sock, REC.ATTR, `reason=${status === 0 ? '' : '4.3.0 queue file write error'}`);
            await writeRecord(sock, REC.ATTR, `queue_id=${id}`);
            await writeRecord(sock, REC.END, '');
            sock.end();
            return;
          }
        }
      } catch {
        sock.destroy();
      }
    })();
  });
  server.listen(path);
  t.after(() => server.close());
  return state;
}

export async function setup(t: TestContext, extra = '', host = 'mx.example.org'): Promise<Setup> {
  const dir = tempDir(t, 'postroom-bounce-');
  const queue = join(dir, 'queue');
  const maillog = join(dir, 'maillog');
  const conf = configDir(
    t,
    `compatibility_level = 3.6\nmyhostname = ${host}\nqueue_directory = ${queue}\nmaillog_file = ${maillog}\nmaillog_file_prefixes = ${dir}\nmaximal_queue_lifetime = 1d\n${extra}`,
  );
  const cfg = loadMainConfig({ configDir: conf });
  const layout = queueLayout(cfg);
  await createQueueDirs(layout);
  mkdirSync(join(queue, 'public'), { mode: 0o700 });
  mkdirSync(join(queue, 'private'), { mode: 0o700 });
  const cleanup = fakeCleanup(t, join(queue, 'public', 'cleanup'));
  const children: ChildProcess[] = [];
  t.after(() => {
    closeBounceClients();
    for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  });
  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  return {
    dir,
    cfg,
    layout,
    cleanup,
    maillog,
    log,
    async waitLog(re) {
      for (let i = 0; i < 100; i++) {
        const text = log();
        if (re.test(text)) return text;
        await sleep(20);
      }
      throw new Error(`maillog never matched ${re}:\n${log()}`);
    },
    async start(service) {
      const child = spawn('node', [MAIN, '-n', service, '-t', 'unix'], {
        env: { ...process.env, MAIL_CONFIG: conf },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const sock = join(queue, 'private', service);
      for (let i = 0; i < 250; i++) {
        if (existsSync(sock)) return child;
        if (child.exitCode !== null) break;
        await sleep(20);
      }
      // Let the last of stderr arrive before saying why.
      await Promise.race([once(child, 'close'), sleep(500)]);
      throw new Error(`${service} did not start (exit ${child.exitCode}): ${stderr}${log()}`);
    },
  };
}

export interface Original {
  sender: string;
  /** Seconds since the epoch (default: a fixed time in 2026). */
  arrival?: number;
  recipients: QueueRecipient[];
  content: string;
  dsnRet?: number;
  dsnEnvid?: string;
}

/** A committed queue file in `queue` (active by default); its queue ID. */
export async function queueMessage(layout: QueueLayout, o: Original, queue = 'active'): Promise<string> {
  const w = await createQueueFile(layout, { queue });
  await w.envelope({
    arrival: { sec: o.arrival ?? 1795602209, usec: 0 },
    sender: o.sender,
    recipients: o.recipients,
    ...(o.dsnRet === undefined ? {} : { dsnRet: o.dsnRet }),
    ...(o.dsnEnvid === undefined ? {} : { dsnEnvid: o.dsnEnvid }),
  });
  await w.content(Buffer.from(o.content));
  return w.commit();
}
