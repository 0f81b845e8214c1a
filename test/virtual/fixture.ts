/*
 * A delivery agent under test: a temp queue and main.cf, the agent started
 * stand-alone as a process (node dist/src/<daemon>/main.js -n <service>
 * -t unix, listening on private/<service>), and fake bounce, defer and
 * trace services served by the test process, recording every request.
 * Messages are put straight into active/ as qmgr would leave them; a
 * delivery request is sent as qmgr sends it.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueueDirs, type QueueLayout, queueFilePath } from '../../src/global/queue_dirs.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { RpcClient, type RpcMessage, serveRpc } from '../../src/global/rpc.js';
import { configDir, ROOT, tempDir } from '../harness/index.js';

export interface Queued {
  readonly id: string;
  readonly sender: string;
  readonly size: number;
  readonly recipients: { address: string; orig?: string; offset: number; dsn_notify?: number }[];
}

export interface AgentHarness {
  readonly base: string;
  readonly queueDir: string;
  readonly layout: QueueLayout;
  /** Requests the fake bounce/defer/trace services got, by service. */
  readonly requests: Map<string, RpcMessage[]>;
  start(daemon: string, service?: string, env?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  queue(sender: string, recipients: readonly (string | QueueRecipient)[], body?: string): Promise<Queued>;
  deliver(service: string, m: Queued, extra?: Partial<RpcMessage>): Promise<RpcMessage>;
  /** Recipients still to do in the queue file (R records, not yet D). */
  todo(m: Queued): Promise<string[]>;
  log(): string[];
}

export async function agentHarness(t: TestContext, mainCf = ''): Promise<AgentHarness> {
  const base = tempDir(t, 'postroom-agent-');
  const queueDir = join(base, 'queue');
  const logFile = join(base, 'maillog');
  const config = configDir(
    t,
    [
      `queue_directory = ${queueDir}`,
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${base}`,
      'myhostname = mx.example.com',
      'mydomain = example.com',
      mainCf,
    ].join('\n'),
  );
  const layout: QueueLayout = {
    directory: queueDir,
    hashed: new Set(['deferred', 'defer']),
    depth: 1,
    longIds: false,
  };
  await createQueueDirs(layout);
  for (const d of ['public', 'private']) mkdirSync(join(queueDir, d), { mode: 0o700 });
  const requests = new Map<string, RpcMessage[]>();
  const servers: Server[] = [];
  for (const svc of ['bounce', 'defer', 'trace']) {
    const server = createServer((sock) =>
      serveRpc(sock, (req) => {
        requests.set(svc, [...(requests.get(svc) ?? []), req]);
        return { status: 0 };
      }),
    );
    server.listen(join(queueDir, 'private', svc));
    servers.push(server);
  }
  const clients: RpcClient[] = [];
  t.after(() => {
    for (const c of clients) c.close();
    for (const s of servers) s.close();
  });
  return {
    base,
    queueDir,
    layout,
    requests,
    async start(daemon, service = daemon, env = {}) {
      const p = spawn(
        process.execPath,
        [join(ROOT, 'dist/src', daemon, 'main.js'), '-n', service, '-t', 'unix'],
        {
          env: { ...process.env, MAIL_CONFIG: config, ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      p.stderr?.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      t.after(() => {
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      });
      const sock = join(queueDir, 'private', service);
      for (let i = 0; i < 400 && !existsSync(sock); i++) {
        if (p.exitCode !== null) throw new Error(`${daemon} exited ${p.exitCode}: ${stderr}`);
        await sleep(25);
      }
      if (!existsSync(sock)) throw new Error(`${daemon}: no ${sock} after 10 s: ${stderr}`);
      return p;
    },
    async queue(sender, recipients, body = 'Subject: test\n\nhello\n') {
      const w = await createQueueFile(layout, { queue: 'active' });
      const now = Date.now();
      await w.envelope({
        arrival: { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 },
        sender,
        recipients: recipients.map((r) => (typeof r === 'string' ? { address: r } : r)),
      });
      await w.content(Buffer.from(body));
      const id = await w.commit();
      const opened = await openQueueFile(queueFilePath(layout, 'active', id));
      if (!opened.ok) throw opened.error;
      const rcpts = opened.file.recipients.map((r) => ({
        address: r.address,
        offset: r.offset,
        ...(r.orig === undefined || r.orig === r.address ? {} : { orig: r.orig }),
        ...(r.dsnNotify === undefined ? {} : { dsn_notify: r.dsnNotify }),
      }));
      await opened.file.close();
      return { id, sender, size: Buffer.byteLength(body), recipients: rcpts };
    },
    async deliver(service, m, extra = {}) {
      const c = new RpcClient(join(queueDir, 'private', service), { timeoutMs: 20_000 });
      clients.push(c);
      const now = Date.now() * 1000;
      return c.call({
        queue_name: 'active',
        queue_id: m.id,
        transport: service,
        nexthop: '',
        sender: m.sender,
        size: m.size,
        arrival: { sec: Math.floor(now / 1e6), usec: now % 1e6 },
        attributes: {},
        recipients: m.recipients,
        stats: { incoming: now, active: now },
        ...extra,
      });
    },
    async todo(m) {
      const opened = await openQueueFile(queueFilePath(layout, 'active', m.id));
      if (!opened.ok) throw opened.error;
      const left = opened.file.recipients.filter((r) => !r.done).map((r) => r.address);
      await opened.file.close();
      return left;
    },
    log: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  };
}

/** A log line without its time stamp, host and pid, and with delays made constant. */
export function normalize(line: string): string {
  return line
    .replace(/^\S+ +\d+ [\d:]+ \S+ /u, '')
    .replace(/^[A-Z][a-z]{2} +\d+ [\d:]+ \S+ /u, '')
    .replace(/\[\d+\]: /u, ': ')
    .replace(/delay=[\d.]+, delays=[\d./]+/u, 'delay=D, delays=D');
}
