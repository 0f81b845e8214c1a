/*
 * user_worker - file operations with a recipient's rights
 *
 * Started by user_ops.runAs() as root with the recipient's uid and gid as
 * arguments; once its code is loaded it sets groups (none), gid and uid
 * for good, and refuses to work if that did not take. Kept for reuse.
 * Input on stdin is a sequence of frames (type byte, 32-bit big-endian op
 * number, 32-bit big-endian length, payload): an op (JSON) opens op N,
 * content frames carry its message, an end frame closes it. Several ops
 * may be in progress at once (their frames interleaved), as several
 * deliveries run at once in local(8) itself; each op's warnings are kept
 * apart. For each op one JSON line goes to stdout, once the op is done
 * and its end frame came: {"id":N,"ok":true,"result":{...},"warnings":[...]}
 * or {"id":N,"ok":false,"status":"5.2.0","reason":"...","code":"EACCES",
 * "warnings":[...]} (the op's warnings travel back: the worker has no log
 * of its own). An abort frame, or end of input, in the middle of an op's
 * content makes the content fail, so the writer undoes its half delivery
 * (mbox cut back, Maildir temporary file removed). End of input ends the
 * process once the ops in hand have answered. Input is paused while much
 * content waits to be written (backpressure). Files it creates are
 * private to the user (umask 077), as Postfix's are.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { msg } from '../global/msg.js';
import { MailboxError } from './mailbox_copy.js';
import { doOp, FRAME, FRAME_HEAD, type UserOp } from './user_ops.js';

process.umask(0o077);
msg.setProgram('postfix/local');
/** The warnings of the op whose code is running (ops run interleaved). */
const opWarnings = new AsyncLocalStorage<string[]>();
const stray: string[] = [];
msg.setSink((level, line) => {
  if (level === 'warning' || level === 'error')
    (opWarnings.getStore() ?? stray).push(line.replace(/^[^:]*: (?:warning|error): /u, ''));
  else process.stderr.write(`${line}\n`);
});

/** Become the user for good (real, effective and saved ids). */
function dropPrivileges(): void {
  const uid = Number(process.argv[2]);
  const gid = Number(process.argv[3]);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new Error('user worker: no uid/gid');
  if (process.getuid?.() === 0) {
    process.setgroups?.([]);
    process.setgid?.(gid);
    process.setuid?.(uid);
  }
  if (
    process.getuid?.() !== uid ||
    process.getgid?.() !== gid ||
    (process.getgroups?.() ?? []).some((g) => g !== gid)
  )
    throw new Error(`user worker: cannot run as uid ${uid} gid ${gid}`);
}

/** Content waiting in the worker beyond this pauses input until the writers catch up. */
const HIGH_WATER = 1 << 20;
let queued = 0;

/** One op in hand: its content as it arrives, and whether its end (or abort) came. */
class OpState {
  readonly chunks: Buffer[] = [];
  /** 'end': the message is whole; 'abort': it never will be. */
  closed: 'end' | 'abort' | undefined;
  #wake: (() => void) | undefined;
  #closedWaiters: (() => void)[] = [];

  push(b: Buffer): void {
    this.chunks.push(b);
    queued += b.length;
    if (queued > HIGH_WATER) process.stdin.pause();
    this.#poke();
  }

  close(how: 'end' | 'abort'): void {
    this.closed ??= how;
    this.#poke();
    for (const w of this.#closedWaiters.splice(0)) w();
  }

  /** Forget content nobody will read (the op ended early). */
  drop(): void {
    for (const b of this.chunks.splice(0)) taken(b.length);
  }

  whenClosed(): Promise<void> {
    if (this.closed !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** The content; only an end frame says the message is whole: never keep a cut-off one. */
  async *content(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const b = this.chunks.shift();
      if (b !== undefined) {
        taken(b.length);
        yield b;
        continue;
      }
      if (this.closed === 'end') return;
      if (this.closed === 'abort') throw new Error('message content incomplete');
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

function taken(n: number): void {
  queued -= n;
  if (queued <= HIGH_WATER / 2 && process.stdin.isPaused()) process.stdin.resume();
}

const ops = new Map<number, OpState>();
const running = new Set<Promise<void>>();

function protocolError(): never {
  throw new Error('user worker: protocol error');
}

async function runOp(id: number, payload: Buffer, state: OpState): Promise<void> {
  const warnings: string[] = [];
  let reply: Record<string, unknown>;
  try {
    const op = JSON.parse(payload.toString('utf8')) as UserOp;
    const result = await opWarnings.run(warnings, () =>
      doOp(op, op.op === 'read' ? undefined : state.content()),
    );
    reply = { id, ok: true, result, warnings };
  } catch (e) {
    const me =
      e instanceof MailboxError ? e : new MailboxError('4.3.0', e instanceof Error ? e.message : String(e));
    reply = { id, ok: false, status: me.status, reason: me.message, code: me.code, warnings };
  }
  // Whatever the op read, the rest of its content is skipped: the answer follows its end.
  state.drop();
  await state.whenClosed();
  state.drop();
  ops.delete(id);
  answer(JSON.stringify(reply));
}

/** Answers of one event-loop turn, written together when it ends (one wake-up of the agent). */
let answers: string[] = [];

function answer(line: string): void {
  if (answers.length === 0) setImmediate(flushAnswers);
  answers.push(`${line}\n`);
}

function flushAnswers(): void {
  if (answers.length === 0) return;
  const out = answers.join('');
  answers = [];
  // A pipe: written synchronously, so nothing is lost when the process exits next.
  process.stdout.write(out);
}

function onFrame(type: number, id: number, payload: Buffer): void {
  const state = ops.get(id);
  if (type === FRAME.OP) {
    if (state !== undefined) protocolError();
    const s = new OpState();
    ops.set(id, s);
    const p = runOp(id, payload, s);
    running.add(p);
    void p.finally(() => running.delete(p));
    return;
  }
  if (state === undefined) protocolError();
  if (type === FRAME.CONTENT) state.push(payload);
  else if (type === FRAME.END) state.close('end');
  else if (type === FRAME.ABORT) state.close('abort');
  else protocolError();
}

function main(): Promise<void> {
  dropPrivileges();
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    process.stdin.on('data', (b: Buffer) => {
      buf = buf.length === 0 ? b : Buffer.concat([buf, b]);
      let at = 0;
      try {
        while (buf.length - at >= FRAME_HEAD) {
          const len = buf.readUInt32BE(at + 5);
          if (buf.length - at < FRAME_HEAD + len) break;
          const type = buf[at] as number;
          const id = buf.readUInt32BE(at + 1);
          // A view: the op may keep it, and each read makes a new buffer.
          onFrame(type, id, buf.subarray(at + FRAME_HEAD, at + FRAME_HEAD + len));
          at += FRAME_HEAD + len;
        }
      } catch (e) {
        reject(e);
        return;
      }
      buf = buf.subarray(at);
    });
    process.stdin.on('end', () => {
      // Input ended: whatever is still open was cut off.
      for (const s of ops.values()) s.close('abort');
      void Promise.all(running).then(() => resolve());
    });
  });
}

main().then(
  () => {
    flushAnswers();
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
