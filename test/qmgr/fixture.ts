/*
 * A queue manager under test: a temp queue and configuration, qmgr started
 * as a process (stand-alone, listening on public/qmgr), fake delivery
 * agents and a fake bounce/defer/trace service served by the test process
 * itself (serveRpc), so every request qmgr makes is recorded.
 *
 * The fake agent decides per recipient with `decide(address)`: sent and
 * bounce mark the recipient done in the queue file (bounce after a bounce
 * record), defer appends a defer record, as real agents do through
 * deliver_status.ts; agents named error and retry take status and reason
 * from the nexthop, as error(8) does. The fake bounce service keeps the per-message logs as
 * files in bounce/, defer/, trace/ (that is what qmgr looks at).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueueDirs, type QueueLayout, queueFilePath, scanQueue } from '../../src/global/queue_dirs.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { type RpcMessage, serveRpc } from '../../src/global/rpc.js';
import { triggerPath } from '../../src/master/trigger.js';
import { configDir, ROOT, tempDir } from '../harness/index.js';

/** site: deferred, and the reply says the destination failed (smtp's dead site). */
export type Decision = 'sent' | 'bounce' | 'defer' | 'site' | 'hang' | 'drop';

export interface Harness {
  readonly queueDir: string;
  readonly config: string;
  readonly layout: QueueLayout;
  /** Requests per service name ("local", "bounce", "defer", "trace", ...). */
  readonly requests: Map<string, RpcMessage[]>;
  log(): string[];
  startQmgr(): Promise<ChildProcess>;
  /** Stop the qmgr process (SIGKILL unless told); its exit code, null after a signal. */
  stopQmgr(signal?: NodeJS.Signals): Promise<number | null>;
  agent(name: string, decide: (address: string, req: RpcMessage) => Decision | Promise<Decision>): Server;
  closeAgent(name: string): Promise<void>;
  submit(
    sender: string,
    recipients: readonly (string | QueueRecipient)[],
    opts?: SubmitOptions,
  ): Promise<string>;
  trigger(bytes: string): Promise<boolean>;
  files(queue: string): Promise<string[]>;
  waitFor<T>(
    what: string,
    f: () => T | undefined | false | Promise<T | undefined | false>,
    ms?: number,
  ): Promise<T>;
}

export interface SubmitOptions {
  readonly arrival?: { sec: number; usec: number };
  readonly warnTime?: number;
  readonly queue?: string;
  readonly body?: string;
  readonly attributes?: Record<string, string>;
}

export async function harness(t: TestContext, mainCf = '', masterCf = ''): Promise<Harness> {
  const queueDir = tempDir(t, 'postroom-qmgr-');
  const logFile = join(queueDir, 'maillog');
  const own = new Set(mainCf.split('\n').map((l) => l.split('=')[0]?.trim()));
  const config = configDir(
    t,
    [
      `queue_directory = ${queueDir}`,
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${queueDir}`,
      'myhostname = mx.example.com',
      'mydomain = example.com',
      'mydestination = $myhostname, localhost, example.com',
      'minimal_backoff_time = 1s',
      'maximal_backoff_time = 4s',
      'queue_run_delay = 1s',
      'transport_retry_time = 1s',
    ]
      .filter((l) => !own.has(l.split('=')[0]?.trim()))
      .concat(mainCf)
      .join('\n'),
    `qmgr unix n - n 300 1 qmgr\n${masterCf}`,
  );
  const layout: QueueLayout = {
    directory: queueDir,
    hashed: new Set(['deferred', 'defer']),
    depth: 1,
    longIds: false,
  };
  await createQueueDirs(layout);
  mkdirSync(join(queueDir, 'public'), { mode: 0o700 });
  mkdirSync(join(queueDir, 'private'), { mode: 0o700 });
  const requests = new Map<string, RpcMessage[]>();
  const servers = new Map<string, Server>();
  const record = (name: string, req: RpcMessage) => {
    const list = requests.get(name) ?? [];
    list.push(req);
    requests.set(name, list);
  };
  const listen = (name: string, handler: (req: RpcMessage) => Promise<RpcMessage> | RpcMessage): Server => {
    const path = join(queueDir, 'private', name);
    const server = createServer((sock) => serveRpc(sock, handler, { name }));
    server.listen(path);
    servers.set(name, server);
    return server;
  };
  const appendLog = (log: string, id: string, fields: Record<string, unknown>) => {
    const path = queueFilePath(layout, log, id);
    mkdirSync(dirname(path), { recursive: true });
    const r = (fields.recipient ?? {}) as Record<string, unknown>;
    const lines = [
      `recipient=${String(r.address)}`,
      `offset=${String(r.offset)}`,
      `status=${String(fields.status)}`,
      `action=${String(fields.action)}`,
      `reason=${String(fields.reason)}`,
      `relay=${String(fields.relay)}`,
    ];
    appendFileSync(path, `${lines.join('\n')}\n\n`);
  };
  for (const svc of ['bounce', 'defer', 'trace']) {
    listen(svc, (req) => {
      record(svc, req);
      const id = String(req.queue_id);
      if (req.request === 'append') appendLog(svc, id, req);
      else if (req.request === 'flush') rmSync(queueFilePath(layout, svc, id), { force: true });
      return { status: 0 };
    });
  }
  let child: ChildProcess | null = null;
  const h: Harness = {
    queueDir,
    config,
    layout,
    requests,
    log: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
    async startQmgr() {
      const p = spawn(process.execPath, [join(ROOT, 'dist/src/qmgr/main.js'), '-n', 'qmgr', '-t', 'unix'], {
        env: { ...process.env, MAIL_CONFIG: config },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child = p;
      t.after(() => {
        if (p.exitCode === null) p.kill('SIGKILL');
        if (stderr !== '') process.stderr.write(`qmgr stderr: ${stderr}`);
      });
      await h.waitFor(
        'qmgr socket',
        () => {
          if (p.exitCode !== null) throw new Error(`qmgr exited ${p.exitCode}: ${stderr}`);
          return existsSync(join(queueDir, 'public', 'qmgr'));
        },
        20_000,
      );
      return p;
    },
    async stopQmgr(signal = 'SIGKILL') {
      const p = child;
      if (p === null) return null;
      if (p.exitCode !== null) return p.exitCode;
      const gone = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
      p.kill(signal);
      const code = await gone;
      rmSync(join(queueDir, 'public', 'qmgr'), { force: true });
      return code;
    },
    agent(name, decide) {
      return listen(name, async (req) => {
        record(name, req);
        const path = queueFilePath(layout, String(req.queue_name), String(req.queue_id));
        const results: { offset: number; outcome: string }[] = [];
        const rcpts = req.recipients as { address: string; offset: number }[];
        const decisions = await Promise.all(rcpts.map((r) => decide(r.address, req)));
        if (decisions.includes('hang')) await new Promise(() => {});
        // error(8) and retry: the reason is the nexthop ("5.1.3 bad address syntax").
        const hop = String(req.nexthop);
        const sp = hop.indexOf(' ');
        const given =
          name === 'error' || name === 'retry'
            ? { status: hop.slice(0, sp), reason: hop.slice(sp + 1) }
            : null;
        const opened = await openQueueFile(path, { write: true });
        if (!opened.ok) return { status: 1, results: [], reason: '4.3.0 cannot open queue file' };
        try {
          for (const [i, r] of rcpts.entries()) {
            const d = decisions[i];
            const stored = opened.file.recipients.find((x) => x.offset === r.offset);
            // The agent breaks off mid-request, after finishing the recipients before.
            if (d === 'drop') throw new Error('agent fell over');
            if (d === 'defer' || d === 'site') {
              appendLog('defer', String(req.queue_id), {
                recipient: r,
                status: given?.status ?? '4.2.2',
                action: 'delayed',
                reason: given?.reason ?? 'mailbox full',
                relay: name,
              });
              results.push({ offset: r.offset, outcome: 'deferred' });
              continue;
            }
            if (d === 'bounce')
              appendLog('bounce', String(req.queue_id), {
                recipient: r,
                status: given?.status ?? '5.1.1',
                action: 'failed',
                reason: given?.reason ?? 'unknown user',
                relay: name,
              });
            if (stored) await opened.file.markDone(stored);
            results.push({ offset: r.offset, outcome: d === 'bounce' ? 'bounced' : 'sent' });
          }
        } finally {
          await opened.file.close();
        }
        const site = decisions.includes('site')
          ? {
              destination: {
                status: '4.4.1',
                reason: 'connect to remote.example[192.0.2.1]:25: Connection refused',
              },
            }
          : {};
        return { status: 0, results, ...site };
      });
    },
    async closeAgent(name) {
      const s = servers.get(name);
      servers.delete(name);
      if (s) await new Promise((r) => s.close(r));
      rmSync(join(queueDir, 'private', name), { force: true });
    },
    async submit(sender, recipients, opts = {}) {
      const w = await createQueueFile(layout, opts.queue === undefined ? {} : { queue: opts.queue });
      const now = Date.now();
      await w.envelope({
        arrival: opts.arrival ?? { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 },
        sender,
        recipients: recipients.map((r) => (typeof r === 'string' ? { address: r } : r)),
        ...(opts.warnTime === undefined ? {} : { warnTime: opts.warnTime }),
        ...(opts.attributes === undefined ? {} : { attributes: opts.attributes }),
      });
      await w.content(Buffer.from(opts.body ?? 'Subject: test\n\nhello\n'));
      return w.commit();
    },
    trigger: (bytes) => triggerPath(join(queueDir, 'public', 'qmgr'), bytes),
    async files(queue) {
      const out: string[] = [];
      for await (const f of scanQueue(layout, queue)) out.push(f.id);
      return out;
    },
    async waitFor(what, f, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const v = await f();
        if (v !== undefined && v !== false) return v as never;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${h.log().join('\n')}`);
        await sleep(25);
      }
    },
  };
  t.after(async () => {
    for (const s of servers.values()) s.close();
  });
  return h;
}
