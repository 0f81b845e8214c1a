/*
 * user_ops - the file work done with a recipient's rights: append to an
 * mbox file, add a Maildir message, read a .forward or :include: file
 *
 * runAs() does it in this process when there is nobody to switch to (not
 * root, or the target is root), otherwise in a child process started with
 * the target uid/gid (src/local/user_worker.ts), so the kernel checks
 * every open, create and symlink as it would for the user: a trick in the
 * user's own directories can only hurt that user. Workers are kept per
 * uid/gid for a few seconds and reused, several ops at once each (their
 * frames interleaved on the worker's stdin, answers matched by op
 * number), so a burst of mail to one user does not start a process per
 * message and usually needs one worker; a small message goes to the
 * worker in one pipe write. A message
 * that cannot be read to its end is aborted, never delivered cut off: the
 * worker undoes its half delivery and stays usable.
 * Failures come back as MailboxError (status decides defer or bounce).
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LockRetry } from '../global/dotlock.js';
import { deliverMaildir } from '../global/maildir.js';
import { deliverMbox, type LockMethod } from '../global/mbox.js';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { chunks, MailboxError, type MessageSource } from './mailbox_copy.js';

export type UserOp =
  | {
      readonly op: 'mbox';
      readonly path: string;
      readonly sender: string;
      readonly prefix: string;
      readonly lock: readonly LockMethod[];
      readonly retry: LockRetry;
      readonly sizeLimit: number;
    }
  | { readonly op: 'maildir'; readonly dir: string; readonly prefix: string; readonly sizeLimit: number }
  | { readonly op: 'read'; readonly path: string; readonly limit: number };

/** What an op found: for read, the text and the file's owner and mode. */
export interface OpResult {
  readonly text?: string;
  readonly uid?: number;
  readonly mode?: number;
  /** read: the file does not exist. */
  readonly missing?: boolean;
  /** mbox: where the message starts. */
  readonly offset?: number;
}

export interface Privs {
  readonly uid: number;
  readonly gid: number;
}

/** Do the op here, with this process's rights. */
export async function doOp(op: UserOp, content?: MessageSource): Promise<OpResult> {
  if (op.op === 'mbox') {
    return { offset: await deliverMbox({ ...op, content: content ?? '' }) };
  }
  if (op.op === 'maildir') {
    await deliverMaildir({ dir: op.dir, prefix: op.prefix, content: content ?? '', sizeLimit: op.sizeLimit });
    return {};
  }
  return readSmall(op.path, op.limit);
}

async function readSmall(path: string, limit: number): Promise<OpResult> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw new MailboxError('4.3.0', `cannot open file ${path}: ${strerror(e)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MailboxError('5.3.0', `file ${path} is not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, limit));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return { text: buf.subarray(0, bytesRead).toString('utf8'), uid: st.uid, mode: st.mode };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

const WORKER = fileURLToPath(new URL('./user_worker.js', import.meta.url));
const IDLE_MS = 10_000;
/**
 * Workers of one uid/gid at most, and ops one worker does at once: a
 * worker costs ~85 ms of CPU to start, an op a fraction of a millisecond,
 * so one worker takes a whole burst (its fsyncs overlap in its thread
 * pool, WORKER_THREADS wide) before a second one is started.
 */
const MAX_PER_USER = 4;
const OPS_PER_WORKER = 32;
const WORKER_THREADS = '16';

/** This process's uid never changes (local does not switch itself): asked once, not per op. */
let myUid: number | undefined;

function needSwitch(p: Privs | undefined): p is Privs {
  myUid ??= typeof process.getuid === 'function' ? process.getuid() : -1;
  return p !== undefined && myUid === 0 && p.uid !== 0;
}

/** Frame types of the worker protocol: op (JSON), content chunk, end of content, abort. */
export const FRAME = Object.freeze({ OP: 0x4f, CONTENT: 0x43, END: 0x45, ABORT: 0x41 });
/** Type byte, op number, payload length. */
export const FRAME_HEAD = 9;

function frameHead(type: number, id: number, length: number): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEAD);
  head[0] = type;
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(length, 5);
  return head;
}

export function frame(type: number, id: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([frameHead(type, id, body.length), body]);
}

const EMPTY = Buffer.alloc(0);
/** The most a frame carries: the worker's reader never holds much more than one frame. */
const FRAME_MAX = 64 * 1024;

/**
 * One op's frames waiting to be written: flushed when about FRAME_MAX
 * bytes are gathered, so memory stays bounded and the pipe gets few,
 * large writes (a small message is one write: op, content, end).
 * Content is cut into frames of at most FRAME_MAX bytes (views, not copies).
 */
class FrameBatch {
  #parts: Uint8Array[] = [];
  #size = 0;

  constructor(
    private readonly id: number,
    private readonly write: (b: Buffer) => Promise<void>,
  ) {}

  async add(type: number, payload: Uint8Array): Promise<void> {
    if (type === FRAME.CONTENT && payload.length === 0) return;
    let at = 0;
    do {
      const piece = payload.subarray(at, at + FRAME_MAX);
      at += piece.length;
      this.#parts.push(frameHead(type, this.id, piece.length), piece);
      this.#size += FRAME_HEAD + piece.length;
      if (this.#size >= FRAME_MAX) await this.flush();
    } while (at < payload.length);
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const b = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    await this.write(b);
  }
}

/** An op in a worker's hands: where its warnings go, and a read error of its content. */
interface Pending {
  resolve(r: OpResult): void;
  reject(e: Error): void;
  readonly warnings: string[] | undefined;
  readError?: unknown;
}

interface Reply {
  id?: number;
  ok?: boolean;
  status?: string;
  reason?: string;
  code?: string;
  result?: OpResult;
  warnings?: string[];
}

/**
 * One long-lived worker process running as one uid/gid. It does up to
 * OPS_PER_WORKER ops at once (as local does in-process when it need not
 * switch); the pool keeps it IDLE_MS for the next delivery to that user.
 */
class UserWorker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** The writes of this event-loop turn, written when it ends. */
  #turn: Promise<void> | undefined;
  #drain: Promise<void> | undefined;
  #out = '';
  #err = '';
  dead = false;
  /** Ops taken from the pool and not given back (counted before run() is called). */
  busy = 0;
  /** Local is stopping: end the worker once its ops are done. */
  closing = false;
  /** Checks now and then whether the worker sat idle IDLE_MS (one timer, not one per op). */
  idleTimer: NodeJS.Timeout | undefined;
  /** When busy last fell to 0. */
  idleSince = 0;

  constructor(
    readonly key: string,
    privs: Privs,
  ) {
    // The worker starts as root and drops to the user itself once its code
    // is loaded, so it works even where the user may not read our files.
    // Profiling flags given to local (POSTROOM_NODE_FLAGS) reach the workers too.
    const flags = process.execArgv.filter((f) => f.startsWith('--cpu-prof'));
    this.child = spawn(process.execPath, [...flags, WORKER, String(privs.uid), String(privs.gid)], {
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
      // The From line is local time: keep the agent's TZ (none means the system's).
      env: {
        PATH: '/usr/bin:/bin',
        UV_THREADPOOL_SIZE: WORKER_THREADS,
        ...(process.env.TZ === undefined ? {} : { TZ: process.env.TZ }),
      },
    });
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.#err.length < 4096) this.#err += d;
    });
    const gone = (why: string) => {
      this.dead = true;
      const all = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of all) p.reject(new MailboxError('4.3.0', `user delivery process failed: ${why}`));
    };
    this.child.once('error', (e) => gone(e.message));
    this.child.once('close', (code, signal) =>
      gone(`${signal ? `signal ${signal}` : `exit ${code}`} ${this.#err.trim().split('\n')[0] ?? ''}`.trim()),
    );
  }

  #onData(d: string): void {
    this.#out += d;
    for (let nl = this.#out.indexOf('\n'); nl >= 0; nl = this.#out.indexOf('\n')) {
      const line = this.#out.slice(0, nl);
      this.#out = this.#out.slice(nl + 1);
      let r: Reply | undefined;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        r = undefined;
      }
      const p = r?.id === undefined ? undefined : this.#pending.get(r.id);
      if (r?.id !== undefined) this.#pending.delete(r.id);
      for (const w of r?.warnings ?? []) {
        if (p?.warnings) p.warnings.push(w);
        else msg.warn(w);
      }
      if (p === undefined) {
        // Not an answer to anything asked: the worker cannot be trusted any more.
        if (!this.dead) this.child.kill();
        continue;
      }
      if (p.readError !== undefined)
        p.reject(new MailboxError('4.3.0', `error reading message: ${strerror(p.readError)}`));
      else if (r?.ok === true) p.resolve(r.result ?? {});
      else
        p.reject(
          new MailboxError(r?.status ?? '4.3.0', r?.reason ?? 'user delivery process: bad reply', r?.code),
        );
    }
  }

  /**
   * Writes made in one turn of the event loop go out together when it ends
   * (the stream is corked meanwhile: one writev, one wake-up of the worker
   * for several ops). Resolves once written, or drained when the pipe is full.
   */
  #write(b: Buffer): Promise<void> {
    if (this.dead) return Promise.resolve();
    const stdin = this.child.stdin;
    if (this.#turn === undefined) {
      stdin.cork();
      this.#turn = new Promise<void>((resolve) =>
        setImmediate(() => {
          this.#turn = undefined;
          stdin.uncork();
          if (!stdin.writableNeedDrain || this.dead) resolve();
          else void this.#drained().then(resolve);
        }),
      );
    }
    stdin.write(b);
    return this.#turn;
  }

  /** The pipe has room again (or the worker is gone). */
  #drained(): Promise<void> {
    this.#drain ??= new Promise<void>((resolve) => {
      const done = () => {
        this.child.off('close', done);
        this.child.stdin.off('drain', done);
        this.#drain = undefined;
        resolve();
      };
      this.child.stdin.once('drain', done);
      this.child.once('close', done);
    });
    return this.#drain;
  }

  run(op: UserOp, content?: MessageSource, warnings?: string[]): Promise<OpResult> {
    const id = this.#nextId;
    this.#nextId = id >= 0xffffffff ? 1 : id + 1;
    let pending!: Pending;
    const result = new Promise<OpResult>((resolve, reject) => {
      pending = { resolve, reject, warnings };
      this.#pending.set(id, pending);
    });
    void (async () => {
      const out = new FrameBatch(id, (b) => this.#write(b));
      await out.add(FRAME.OP, Buffer.from(JSON.stringify(op)));
      try {
        if (content !== undefined)
          for await (const c of chunks(content)) {
            if (this.dead) break;
            await out.add(FRAME.CONTENT, c);
          }
      } catch (e) {
        // The worker undoes what it wrote and answers; the reason is the read error.
        pending.readError = e;
        await out.add(FRAME.ABORT, EMPTY);
        await out.flush();
        return;
      }
      await out.add(FRAME.END, EMPTY);
      await out.flush();
    })().catch((e: unknown) => {
      // A write that failed leaves the frame stream unusable: every op of this worker fails.
      this.#pending.delete(id);
      pending.reject(new MailboxError('4.3.0', `user delivery process failed: ${strerror(e)}`));
      this.child.kill();
    });
    return result;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Workers of one uid/gid: at most MAX_PER_USER, each with OPS_PER_WORKER ops at most; the rest wait their turn. */
interface Pool {
  readonly workers: UserWorker[];
  readonly waiting: (() => void)[];
}

const pools = new Map<string, Pool>();

async function takeWorker(privs: Privs): Promise<UserWorker> {
  const key = `${privs.uid}:${privs.gid}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = { workers: [], waiting: [] };
    pools.set(key, pool);
  }
  for (;;) {
    for (let i = pool.workers.length - 1; i >= 0; i--) if (pool.workers[i]?.dead) pool.workers.splice(i, 1);
    // The first worker with room: the others then fall idle and end.
    const w = pool.workers.find((x) => x.busy < OPS_PER_WORKER);
    if (w !== undefined) {
      w.busy++;
      return w;
    }
    if (pool.workers.length < MAX_PER_USER) {
      const fresh = new UserWorker(key, privs);
      pool.workers.push(fresh);
      fresh.busy++;
      return fresh;
    }
    await new Promise<void>((resolve) => pool.waiting.push(resolve));
  }
}

function giveBack(w: UserWorker): void {
  const pool = pools.get(w.key);
  w.busy--;
  if (w.closing) {
    if (w.busy === 0) w.close();
    return;
  }
  if (pool === undefined) return;
  if (w.dead) {
    const i = pool.workers.indexOf(w);
    if (i >= 0) pool.workers.splice(i, 1);
  } else if (w.busy === 0) {
    w.idleSince = performance.now();
    // A timer per op would be made and cleared for each message; one
    // pending check per worker that looks again when it fires is enough.
    if (w.idleTimer === undefined) idleCheck(pool, w, IDLE_MS);
  }
  pool.waiting.shift()?.();
}

/** End the worker once it has been idle IDLE_MS; until then look again when that could be. */
function idleCheck(pool: Pool, w: UserWorker, ms: number): void {
  w.idleTimer = setTimeout(
    () => {
      w.idleTimer = undefined;
      if (w.dead || w.closing) return;
      const idle = performance.now() - w.idleSince;
      if (w.busy > 0 || idle < IDLE_MS) {
        // Busy now: giveBack() starts the check again when it is idle.
        if (w.busy === 0) idleCheck(pool, w, IDLE_MS - idle);
        return;
      }
      const i = pool.workers.indexOf(w);
      if (i >= 0) pool.workers.splice(i, 1);
      w.close();
    },
    Math.max(1, Math.ceil(ms)),
  );
  w.idleTimer.unref();
}

/**
 * Do the op with `privs`' rights (see the header). A worker's warnings go
 * to `warnings` when given, else to this process's log.
 */
export async function runAs(
  privs: Privs | undefined,
  op: UserOp,
  content?: MessageSource,
  warnings?: string[],
): Promise<OpResult> {
  if (!needSwitch(privs)) return doOp(op, content);
  const w = await takeWorker(privs);
  try {
    return await w.run(op, content, warnings);
  } finally {
    giveBack(w);
  }
}

/** End the workers (process exit): the idle ones now, the others when their ops are done. */
export function closeUserWorkers(): void {
  for (const pool of pools.values())
    for (const w of pool.workers.splice(0)) {
      clearTimeout(w.idleTimer);
      w.closing = true;
      if (w.busy === 0) w.close();
    }
}
