/*
 * user_ops - the file work done with a recipient's rights: append to an
 * mbox file, add a Maildir message, read a .forward or :include: file
 *
 * runAs() does it in this process when there is nobody to switch to (not
 * root, or the target is root), otherwise in a child process started with
 * the target uid/gid (src/local/user_worker.ts), so the kernel checks
 * every open, create and symlink as it would for the user: a trick in the
 * user's own directories can only hurt that user. Workers are kept per
 * uid/gid for a few seconds and reused, one op at a time each, so a burst
 * of mail to one user does not start a process per message. A message
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

function needSwitch(p: Privs | undefined): p is Privs {
  return p !== undefined && typeof process.getuid === 'function' && process.getuid() === 0 && p.uid !== 0;
}

/** Frame types of the worker protocol: op (JSON), content chunk, end of content. */
export const FRAME = Object.freeze({ OP: 0x4f, CONTENT: 0x43, END: 0x45, ABORT: 0x41 });

export function frame(type: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

const EMPTY = Buffer.alloc(0);
/** The most a frame carries: the worker's reader never holds much more than one frame. */
const FRAME_MAX = 64 * 1024;

/**
 * Frames waiting to be written: flushed when about FRAME_MAX bytes are
 * gathered, so memory stays bounded and the pipe gets few, large writes.
 * Content is cut into frames of at most FRAME_MAX bytes (views, not copies).
 */
class FrameBatch {
  #parts: Uint8Array[] = [];
  #size = 0;

  constructor(private readonly write: (b: Buffer) => Promise<void>) {}

  async add(type: number, payload: Uint8Array): Promise<void> {
    if (type === FRAME.CONTENT && payload.length === 0) return;
    let at = 0;
    do {
      const piece = payload.subarray(at, at + FRAME_MAX);
      at += piece.length;
      const head = Buffer.allocUnsafe(5);
      head[0] = type;
      head.writeUInt32BE(piece.length, 1);
      this.#parts.push(head, piece);
      this.#size += 5 + piece.length;
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

/** The op a worker is doing: where its warnings go, and a read error of its content. */
interface Pending {
  resolve(r: OpResult): void;
  reject(e: Error): void;
  readonly warnings: string[] | undefined;
  readError?: unknown;
}

/**
 * One long-lived worker process running as one uid/gid. It does one op at
 * a time; the pool keeps it IDLE_MS for the next delivery to that user.
 */
class UserWorker {
  readonly child: ChildProcessWithoutNullStreams;
  #pending: Pending | undefined;
  #out = '';
  #err = '';
  dead = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    privs: Privs,
  ) {
    // The worker starts as root and drops to the user itself once its code
    // is loaded, so it works even where the user may not read our files.
    this.child = spawn(process.execPath, [WORKER, String(privs.uid), String(privs.gid)], {
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
      // The From line is local time: keep the agent's TZ (none means the system's).
      env: { PATH: '/usr/bin:/bin', ...(process.env.TZ === undefined ? {} : { TZ: process.env.TZ }) },
    });
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => this.#onData(d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.#err.length < 4096) this.#err += d;
    });
    const gone = (why: string) => {
      this.dead = true;
      const p = this.#pending;
      this.#pending = undefined;
      p?.reject(new MailboxError('4.3.0', `user delivery process failed: ${why}`));
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
      const p = this.#pending;
      this.#pending = undefined;
      let r:
        | {
            ok?: boolean;
            status?: string;
            reason?: string;
            code?: string;
            result?: OpResult;
            warnings?: string[];
          }
        | undefined;
      try {
        r = JSON.parse(line);
      } catch {
        r = undefined;
      }
      for (const w of r?.warnings ?? []) {
        if (p?.warnings) p.warnings.push(w);
        else msg.warn(w);
      }
      if (p?.readError !== undefined)
        p.reject(new MailboxError('4.3.0', `error reading message: ${strerror(p.readError)}`));
      else if (r?.ok === true) p?.resolve(r.result ?? {});
      else
        p?.reject(
          new MailboxError(r?.status ?? '4.3.0', r?.reason ?? 'user delivery process: bad reply', r?.code),
        );
    }
  }

  async #write(b: Buffer): Promise<void> {
    if (this.dead) return;
    if (!this.child.stdin.write(b)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.child.off('close', done);
          resolve();
        };
        this.child.stdin.once('drain', done);
        this.child.once('close', done);
      });
    }
  }

  run(op: UserOp, content?: MessageSource, warnings?: string[]): Promise<OpResult> {
    let pending!: Pending;
    const result = new Promise<OpResult>((resolve, reject) => {
      pending = { resolve, reject, warnings };
      this.#pending = pending;
    });
    void (async () => {
      // Frames are gathered and written together: a small message is one
      // pipe write (op, content, end), not one per line.
      const out = new FrameBatch((b) => this.#write(b));
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
      const p = this.#pending;
      this.#pending = undefined;
      p?.reject(new MailboxError('4.3.0', `user delivery process failed: ${strerror(e)}`));
      this.child.kill();
    });
    return result;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Workers of one uid/gid: at most MAX_PER_USER at once, the rest wait their turn. */
interface Pool {
  readonly idle: UserWorker[];
  busy: number;
  readonly waiting: (() => void)[];
}

const MAX_PER_USER = 4;
const pools = new Map<string, Pool>();

async function takeWorker(privs: Privs): Promise<UserWorker> {
  const key = `${privs.uid}:${privs.gid}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = { idle: [], busy: 0, waiting: [] };
    pools.set(key, pool);
  }
  for (;;) {
    for (let w = pool.idle.pop(); w !== undefined; w = pool.idle.pop()) {
      clearTimeout(w.idleTimer);
      if (!w.dead) {
        pool.busy++;
        return w;
      }
    }
    if (pool.busy < MAX_PER_USER) {
      pool.busy++;
      return new UserWorker(key, privs);
    }
    await new Promise<void>((resolve) => pool.waiting.push(resolve));
  }
}

function giveBack(w: UserWorker): void {
  const pool = pools.get(w.key);
  if (pool === undefined) return;
  pool.busy--;
  if (!w.dead) {
    pool.idle.push(w);
    w.idleTimer = setTimeout(() => {
      const i = pool.idle.indexOf(w);
      if (i >= 0) pool.idle.splice(i, 1);
      w.close();
    }, IDLE_MS);
    w.idleTimer.unref();
  }
  pool.waiting.shift()?.();
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

/** End the idle workers (process exit). */
export function closeUserWorkers(): void {
  for (const pool of pools.values()) for (const w of pool.idle.splice(0)) w.close();
}
