/*
 * user_worker - file operations with a recipient's rights
 *
 * Started by user_ops.runAs() as root with the recipient's uid and gid as
 * arguments; once its code is loaded it sets groups (none), gid and uid
 * for good, and refuses to work if that did not take. Kept for reuse. Input on stdin is a sequence
 * of frames (type byte, 32-bit big-endian length, payload): an op (JSON),
 * its content chunks, an end frame; then the next op. For each op one
 * JSON line goes to stdout: {"ok":true,"result":{...},"warnings":[...]} or
 * {"ok":false,"status":"5.2.0","reason":"...","code":"EACCES","warnings":[...]}
 * (the op's warnings travel back: the worker has no log of its own). An
 * abort frame, or end of input, in the middle of an op's content makes the
 * content fail, so the writer undoes its half delivery (mbox cut back,
 * Maildir temporary file removed). End of input between ops ends the
 * process. Files it creates are private to the user (umask 077), as
 * Postfix's are.
 */

import { msg } from '../global/msg.js';
import { MailboxError } from './mailbox_copy.js';
import { doOp, FRAME, type UserOp } from './user_ops.js';

process.umask(0o077);
msg.setProgram('postfix/local');
let warnings: string[] = [];
msg.setSink((level, line) => {
  if (level === 'warning' || level === 'error')
    warnings.push(line.replace(/^[^:]*: (?:warning|error): /u, ''));
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

interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/** Frames from stdin, one at a time. */
class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  constructor() {
    process.stdin.on('data', (b: Buffer) => {
      this.#buf = this.#buf.length === 0 ? b : Buffer.concat([this.#buf, b]);
      this.#wake?.();
    });
    process.stdin.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  async next(): Promise<Frame | null> {
    for (;;) {
      if (this.#buf.length >= 5) {
        const len = this.#buf.readUInt32BE(1);
        if (this.#buf.length >= 5 + len) {
          const f = { type: this.#buf[0] as number, payload: this.#buf.subarray(5, 5 + len) };
          this.#buf = this.#buf.subarray(5 + len);
          return f;
        }
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

async function main(): Promise<void> {
  dropPrivileges();
  const frames = new FrameReader();
  for (;;) {
    const f = await frames.next();
    if (f === null) return;
    if (f.type !== FRAME.OP) throw new Error('user worker: protocol error');
    let ended = false;
    async function* content(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const c = await frames.next();
        if (c !== null && c.type === FRAME.END) {
          ended = true;
          return;
        }
        // Only an end frame says the message is whole: never keep a cut-off one.
        if (c === null || c.type === FRAME.ABORT) {
          ended = true;
          throw new Error('message content incomplete');
        }
        yield c.payload;
      }
    }
    let reply: string;
    warnings = [];
    try {
      const op = JSON.parse(f.payload.toString('utf8')) as UserOp;
      const result = await doOp(op, op.op === 'read' ? undefined : content());
      reply = JSON.stringify({ ok: true, result, warnings });
    } catch (e) {
      const me =
        e instanceof MailboxError ? e : new MailboxError('4.3.0', e instanceof Error ? e.message : String(e));
      reply = JSON.stringify({ ok: false, status: me.status, reason: me.message, code: me.code, warnings });
    }
    // Whatever the op read, the rest of its content is skipped to the next op.
    while (!ended) {
      const c = await frames.next();
      if (c === null || c.type === FRAME.END || c.type === FRAME.ABORT) ended = true;
    }
    process.stdout.write(`${reply}\n`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
