/*
 * mailbox_copy - what local(8) and virtual(8) write into a mailbox file,
 * and how a failure is reported
 *
 * The message content arrives as LF-terminated lines (as the queue file
 * holds them), in chunks of any size. The caller prepends its delivery
 * headers (Return-Path, X-Original-To, Delivered-To) as a prefix; mbox
 * delivery adds the "From " line, quotes body lines that begin with
 * "From " as ">From " (Postfix quotes exactly those, not ">From "), and
 * ends with an empty line. A last line without a newline gets one, as
 * Postfix does. A failure is a MailboxError carrying the enhanced status
 * code that decides between defer (4.x.x) and bounce (5.x.x).
 */

import { writeSync } from 'node:fs';
import { strerror } from '../util/strerror.js';

/** The message as bytes, or a stream of chunks (split anywhere, even inside a line). */
export type MessageSource = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A delivery that did not happen; `status` is the RFC 3463 code, `message` Postfix's reason text. */
export class MailboxError extends Error {
  constructor(
    readonly status: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'MailboxError';
  }
  get permanent(): boolean {
    return this.status.startsWith('5');
  }
}

/**
 * Enhanced status for a file system error: a full disk is temporary, a full
 * mailbox (quota or size limit) is "mailbox full", a transient error retries;
 * anything else gets the caller's default.
 */
export function mboxStatus(e: unknown, defaultStatus: string): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC') return '4.3.0';
  if (code === 'EFBIG' || code === 'EDQUOT') return '5.2.2';
  if (code === 'EAGAIN' || code === 'ESTALE') return '4.2.0';
  return defaultStatus;
}

export function mailboxError(e: unknown, defaultStatus: string, reason: string): MailboxError {
  if (e instanceof MailboxError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return new MailboxError(mboxStatus(e, defaultStatus), `${reason}: ${strerror(e)}`, code);
}

/** An errno-style error, for conditions we detect ourselves (e.g. the size limit). */
export function errnoError(code: string, text: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(text);
  e.code = code;
  return e;
}

/** The delivery headers Postfix's local(8) prepends, in its order. */
export function deliveryHeaders(h: {
  readonly returnPath?: string;
  readonly originalRecipient?: string;
  readonly deliveredTo?: string;
}): string {
  let out = '';
  if (h.returnPath !== undefined) out += `Return-Path: <${h.returnPath}>\n`;
  if (h.originalRecipient !== undefined) out += `X-Original-To: ${h.originalRecipient}\n`;
  if (h.deliveredTo !== undefined) out += `Delivered-To: ${h.deliveredTo}\n`;
  return out;
}

const FROM = Buffer.from('From ');
const GT = Buffer.from('>');
const EMPTY = Buffer.alloc(0);

/**
 * Rewrites a chunked message: optionally quotes "From " at line starts, and
 * remembers whether the output so far ends a line. Chunk edges are handled
 * by holding back a line start that might still become "From ".
 */
export class LineCopier {
  private bol = true;
  private held: Buffer = EMPTY;
  private wrote = false;
  private lastNl = true;

  constructor(private readonly quoteFrom: boolean) {}

  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.held.length > 0) {
      data = Buffer.concat([this.held, data]);
      this.held = EMPTY;
    }
    if (!this.quoteFrom) {
      this.emit(out, data);
      return out;
    }
    let start = 0;
    let i = 0;
    while (i < data.length) {
      if (this.bol) {
        const rest = data.length - i;
        if (rest < FROM.length) {
          if (FROM.subarray(0, rest).equals(data.subarray(i))) {
            this.emit(out, data.subarray(start, i));
            this.held = Buffer.from(data.subarray(i));
            return out;
          }
        } else if (data[i] === 0x46 && data.subarray(i, i + FROM.length).equals(FROM)) {
          this.emit(out, data.subarray(start, i));
          this.emit(out, GT);
          start = i;
        }
      }
      const nl = data.indexOf(0x0a, i);
      if (nl < 0) {
        this.bol = false;
        break;
      }
      i = nl + 1;
      this.bol = true;
    }
    this.emit(out, data.subarray(start));
    return out;
  }

  /** The rest: held bytes, and a newline if the last line had none. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    this.emit(out, this.held);
    this.held = EMPTY;
    if (this.wrote && !this.lastNl) this.emit(out, Buffer.from('\n'));
    return out;
  }

  private emit(out: Buffer[], b: Buffer): void {
    if (b.length === 0) return;
    out.push(b);
    this.wrote = true;
    this.lastNl = b[b.length - 1] === 0x0a;
  }
}

/** Iterate a MessageSource as byte chunks. */
export async function* chunks(src: MessageSource): AsyncGenerator<Uint8Array> {
  if (typeof src === 'string') {
    yield Buffer.from(src);
  } else if (src instanceof Uint8Array) {
    yield src;
  } else if (Symbol.asyncIterator in src) {
    for await (const c of src as AsyncIterable<Uint8Array>) yield typeof c === 'string' ? Buffer.from(c) : c;
  } else {
    for (const c of src as Iterable<Uint8Array>) yield c;
  }
}

/**
 * Writes buffers through `write` in batches of about 64 KiB, enforcing a
 * size limit the way Postfix's file size resource limit does: the write
 * that would pass it fails with EFBIG.
 */
export class BatchWriter {
  private parts: Buffer[] = [];
  private pending = 0;
  written = 0;

  constructor(
    private readonly write: (b: Buffer) => Promise<void> | void,
    private readonly room: number,
  ) {}

  async add(bufs: readonly Buffer[]): Promise<void> {
    for (const b of bufs) {
      if (this.written + this.pending + b.length > this.room) {
        throw errnoError('EFBIG', 'File too large');
      }
      this.parts.push(b);
      this.pending += b.length;
    }
    if (this.pending >= 65536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const b = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    await this.write(b);
    this.written += b.length;
  }
}

/** writeAll with a descriptor and synchronous writes (small local files: no thread-pool round trip). */
export function writeAllSync(fd: number, b: Buffer): void {
  let done = 0;
  while (done < b.length) done += writeSync(fd, b, done, b.length - done);
}

/** Write a whole buffer at the current position (or the end, for O_APPEND). */
export async function writeAll(fh: import('node:fs/promises').FileHandle, b: Buffer): Promise<void> {
  let done = 0;
  while (done < b.length) {
    const { bytesWritten } = await fh.write(b, done, b.length - done);
    done += bytesWritten;
  }
}
