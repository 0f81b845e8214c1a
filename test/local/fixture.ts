/*
 * A stand-alone local(8) on a temp queue for tests: fake bounce/defer/trace
 * services and a fake cleanup (for forwarded mail) that record what they
 * get, messages queued in active/, and delivery requests sent as qmgr does.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { REC_CLEANUP_FLAGS } from '../../src/global/cleanup_client.js';
import type { DeliverReply } from '../../src/global/deliver_request.js';
import { queueFilePath, queueLayout } from '../../src/global/queue_dirs.js';
import { REC } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { readRecords, writeRecord } from '../../src/global/record_stream.js';
import { RpcClient, type RpcMessage, serveRpc } from '../../src/global/rpc.js';
import { startDaemon, type TestQueue, testQueue } from '../harness/daemon.js';
import { ours, ROOT } from '../harness/index.js';

export interface Resubmitted {
  readonly sender: string;
  readonly recipients: { address: string; orig?: string }[];
  readonly content: string;
  readonly queueId: string;
}

export interface LocalTest {
  readonly q: TestQueue;
  /** The local process. */
  readonly pid: number | undefined;
  readonly spool: string;
  readonly files: string;
  readonly logs: RpcMessage[];
  readonly resubmitted: Resubmitted[];
  deliver(env: Message): Promise<{ reply: DeliverReply; id: string }>;
  /** Write the queue file now; send() makes the delivery request (to fire several at once). */
  prepare(env: Message): Promise<{ id: string; send(): Promise<DeliverReply> }>;
  maillog(): string;
  /** The status lines logged for queue ID `id`, "to=<...>, ..., status=... (...)" without delays. */
  statusLines(id: string): string[];
  done(id: string): Promise<boolean[]>;
}

export interface Message {
  readonly sender?: string;
  readonly recipients: readonly (string | { address: string; orig?: string })[];
  readonly content?: string;
  readonly attributes?: Record<string, string>;
  readonly flags?: number;
}

let cleanupSeq = 0;

function fakeCleanup(path: string, got: Resubmitted[]): Server {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    void (async () => {
      const records = readRecords(sock);
      const first = await records.next();
      if (first.done || first.value.type !== REC_CLEANUP_FLAGS) return sock.destroy();
      const queueId = `F${String(++cleanupSeq).padStart(4, '0')}ABCDE`;
      await writeRecord(sock, REC.ATTR, `queue_id=${queueId}`);
      let sender = '';
      const recipients: { address: string; orig?: string }[] = [];
      let orig: string | undefined;
      const content: Buffer[] = [];
      // Not for-await: leaving that loop would destroy the socket before the reply.
      for (;;) {
        const n = await records.next();
        if (n.done) return sock.destroy();
        const r = n.value;
        if (r.type === REC.FROM) sender = r.data.toString();
        else if (r.type === REC.ORCP) orig = r.data.toString();
        else if (r.type === REC.RCPT) {
          recipients.push({ address: r.data.toString(), ...(orig === undefined ? {} : { orig }) });
          orig = undefined;
        } else if (r.type === REC.CONT) content.push(r.data);
        else if (r.type === REC.END) break;
      }
      got.push({ sender, recipients, content: Buffer.concat(content).toString(), queueId });
      await writeRecord(sock, REC.ATTR, 'status=0');
      await writeRecord(sock, REC.ATTR, `queue_id=${queueId}`);
      await writeRecord(sock, REC.END, '');
      sock.end();
    })().catch(() => sock.destroy());
  });
  server.listen(path);
  return server;
}

/** Run local as an ordinary user: the queue, spool and sockets are made theirs. */
async function startAsUser(
  t: TestContext,
  q: TestQueue,
  servers: Server[],
  user: { uid: number; gid: number },
): Promise<number | undefined> {
  for (const s of servers) {
    if (!s.listening) await new Promise((r) => s.once('listening', r));
    chmodSync(s.address() as string, 0o666);
  }
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, q.base]);
  chmodSync(q.configDir, 0o755);
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/local/main.js'), '-n', 'local', '-t', 'unix'], {
    env: { ...process.env, MAIL_CONFIG: q.configDir },
    stdio: ['ignore', 'ignore', 'pipe'],
    uid: user.uid,
    gid: user.gid,
  });
  let stderr = '';
  child.stderr?.on('data', (b) => (stderr += b));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const path = join(q.queueDir, 'private', 'local');
  for (let i = 0; i < 200 && !existsSync(path); i++) {
    if (child.exitCode !== null) throw new Error(`local exited ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!existsSync(path)) throw new Error(`local: no ${path} after 5 s: ${stderr}`);
  return child.pid;
}

/** Build an aliases file with our postalias (hash:), owned by root. */
export function aliases(q: TestQueue, text: string): string {
  const file = join(q.base, 'aliases');
  writeFileSync(file, text);
  const r = ours('postalias', ['-c', q.configDir, `hash:${file}`]);
  if (r.status !== 0) throw new Error(`postalias: ${r.stderr}`);
  return `hash:${file}`;
}

/** Start local with `mainCf` added; `before` runs after the queue exists, before local starts. */
export async function startLocal(
  t: TestContext,
  mainCf: string | ((q: TestQueue) => string) = '',
  opts: { readonly user?: { uid: number; gid: number } } = {},
): Promise<LocalTest> {
  const q = await testQueue(t, '');
  const spool = join(q.base, 'spool');
  const files = join(q.base, 'files');
  mkdirSync(spool);
  mkdirSync(files);
  chmodSync(q.base, 0o755);
  chmodSync(spool, 0o1777);
  chmodSync(files, 0o1777);
  const extra = typeof mainCf === 'function' ? mainCf(q) : mainCf;
  appendFileSync(
    join(q.configDir, 'main.cf'),
    `${/^mail_spool_directory\b/mu.test(extra) ? '' : `mail_spool_directory = ${spool}\n`}` +
      `maillog_file_prefixes = ${dirname(q.base)}\nmydestination = host.example, localhost\n` +
      `${/^alias_maps\b/mu.test(extra) ? '' : 'alias_maps =\n'}${extra}\n`,
  );
  const logs: RpcMessage[] = [];
  const servers: Server[] = [];
  for (const name of ['bounce', 'defer', 'trace']) {
    const s = createServer((sock) =>
      serveRpc(sock, (m) => {
        logs.push({ service: name, ...m });
        return { status: 0 };
      }),
    );
    s.listen(join(q.queueDir, 'private', name));
    servers.push(s);
  }
  const resubmitted: Resubmitted[] = [];
  servers.push(fakeCleanup(join(q.queueDir, 'public', 'cleanup'), resubmitted));
  t.after(() => {
    for (const s of servers) s.close();
  });
  const pid = opts.user
    ? await startAsUser(t, q, servers, opts.user)
    : (await startDaemon(t, q, 'src/local/main.js', ['-n', 'local', '-t', 'unix'], 'private/local')).pid;
  const client = new RpcClient(join(q.queueDir, 'private', 'local'), { timeoutMs: 20_000 });
  t.after(() => client.close());
  const layout = queueLayout(q.cfg);
  const lt: LocalTest = {
    q,
    pid,
    spool,
    files,
    logs,
    resubmitted,
    async deliver(m) {
      const { id, send } = await lt.prepare(m);
      return { reply: await send(), id };
    },
    async prepare(m) {
      const w = await createQueueFile(layout, { queue: 'active' });
      const now = Date.now();
      await w.envelope({
        arrival: { sec: Math.floor(now / 1000), usec: 0 },
        sender: m.sender ?? 'sender@example.com',
        recipients: m.recipients.map((r) => (typeof r === 'string' ? { address: r } : r)),
        attributes: m.attributes ?? {},
      });
      await w.content(Buffer.from(m.content ?? 'Subject: test\n\nbody\n'));
      const id = await w.commit();
      if (opts.user) chownSync(queueFilePath(layout, 'active', id), opts.user.uid, opts.user.gid);
      const opened = await openQueueFile(queueFilePath(layout, 'active', id));
      if (!opened.ok) throw opened.error;
      const file = opened.file;
      const req = {
        queue_name: 'active',
        queue_id: id,
        transport: 'local',
        nexthop: 'host.example',
        sender: file.envelope.sender,
        size: file.contentLength,
        arrival: { sec: Math.floor(now / 1000), usec: 0 },
        attributes: { ...file.attributes },
        recipients: file.recipients.map((r) => ({
          address: r.address,
          offset: r.offset,
          ...(r.orig === undefined ? {} : { orig: r.orig }),
        })),
        stats: { incoming: now * 1000, active: now * 1000 },
        ...(m.flags === undefined ? {} : { flags: m.flags }),
      };
      await file.close();
      return { id, send: async () => (await client.call(req)) as unknown as DeliverReply };
    },
    maillog() {
      try {
        return readFileSync(q.maillog, 'utf8');
      } catch {
        return '';
      }
    },
    statusLines(id) {
      return lt
        .maillog()
        .split('\n')
        .filter((l) => l.includes(`: ${id}: to=<`))
        .map((l) =>
          l.slice(l.indexOf(`${id}: `) + id.length + 2).replace(/, delay=[^,]*, delays=[^,]*/u, ''),
        );
    },
    async done(id) {
      const opened = await openQueueFile(queueFilePath(layout, 'active', id));
      if (!opened.ok) throw opened.error;
      const flags = opened.file.recipients.map((r) => r.done);
      await opened.file.close();
      return flags;
    },
  };
  return lt;
}

/** The Postfix golden status lines (to=..., relay, dsn, status) for one recipient of record.sh. */
export function goldenLines(to: string, file = 'maillog.txt'): string[] {
  const text = readFileSync(join(import.meta.dirname, '../../../test/golden/local', file), 'utf8');
  const ids = new Set<string>();
  for (const l of text.split('\n')) {
    const m = / postfix\/local\[\d+\]: ([0-9A-F]+): to=<([^>]*)>, orig_to=<([^>]*)>/u.exec(l);
    if (m && m[3] === to) ids.add(m[1] as string);
  }
  return text
    .split('\n')
    .filter((l) => / postfix\/local\[\d+\]: [0-9A-F]+: to=</u.test(l))
    .filter((l) => [...ids].some((id) => l.includes(`: ${id}: `)))
    .map((l) => l.replace(/^.*?: [0-9A-F]+: /u, '').replace(/, delay=[^,]*, delays=[^,]*/u, ''));
}
