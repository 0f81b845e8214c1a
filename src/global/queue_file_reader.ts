/*
 * queue_file_reader - open a queue file and read it back, for qmgr,
 * delivery agents and postcat
 *
 *   const r = await openQueueFile(path);
 *   if (!r.ok) move it to corrupt/ (r.error.kind: incomplete|corrupt|missing)
 *   r.file.envelope, r.file.recipients (each with done and its offset)
 *   for await (const b of r.file.contentBytes()) ...   // streamed
 *   await r.file.markDone(rcpt)                        // needs { write: true }
 *   await r.file.close()
 *
 * Guarantees: open never returns part of a message. It checks that the
 * file is as long as its size record says and ends in the end record
 * there, and parses the envelope and extracted sections fully; a file
 * cut short anywhere is 'incomplete', any other damage 'corrupt'. Content
 * is read in fixed-size chunks (memory does not grow with the message);
 * damage found there throws a QueueFileError. markDone changes only the
 * recipient's type byte (R to D) with one write and does not sync it: a
 * mark lost in a crash only makes the recipient be tried again (at least
 * once, as Postfix; see docs/queue.md). setWarnTime syncs.
 *
 * Cost: a queue file is small and local, so it is read with synchronous
 * calls (no thread-pool round trip per read): opening a typical message
 * is open, fstat and one read of the whole file, which then also serves
 * the content; only a file larger than HEAD is read on demand.
 */

import { close, closeSync, fdatasync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import {
  type Decoded,
  decodeRecord,
  formatWarn,
  parseSize,
  type QueueEnvelope,
  QueueFileError,
  type QueueRecipient,
  REC,
  SIZE_RECORD_LEN,
  type SizeRecord,
  WARN_FIELD_WIDTH,
} from './queue_file.js';

/** Bytes read at open: a file this small is read whole, in one call. */
const HEAD = 128 * 1024;
/** Content reads beyond HEAD, and the largest piece contentBytes() yields (a longer record comes whole). */
const CHUNK = 64 * 1024;
const DONE_BYTE = Buffer.of(REC.DONE);
/** Envelope and extracted sections are read whole; beyond this a size record is taken as damage. */
const MAX_SECTION = 256 * 1024 * 1024;

export interface StoredRecipient extends QueueRecipient {
  /** Delivered, bounced or otherwise finished: not to be tried again. */
  readonly done: boolean;
  /** File offset of its R/D byte. */
  readonly offset: number;
}

export type OpenResult = { ok: true; file: QueueFileReader } | { ok: false; error: QueueFileError };

/** Open and check a queue file. `write` allows markDone. */
export async function openQueueFile(path: string, opts: { write?: boolean } = {}): Promise<OpenResult> {
  let fd: number;
  try {
    fd = openSync(path, opts.write ? 'r+' : 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      return { ok: false, error: new QueueFileError('missing', path, 'no such file') };
    throw e;
  }
  try {
    const file = QueueFileReader.load(fd, path, opts.write === true);
    return { ok: true, file };
  } catch (e) {
    closeSync(fd);
    if (e instanceof QueueFileError) return { ok: false, error: e };
    throw e;
  }
}

/** Read `len` bytes at `pos`, or fewer at end of file. */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

interface Section {
  readonly records: { type: number; start: number; data: Buffer }[];
}

export class QueueFileReader {
  readonly recipients: StoredRecipient[] = [];
  /** Named attributes; no prototype, so any name read from a file is just a name. */
  readonly attributes: Record<string, string> = Object.create(null);
  #envelope: QueueEnvelope | undefined;
  /** Offset of the W record's payload. */
  #warnOffset = -1;
  #warnTime = 0;
  #fd: number;
  /** The file's first bytes (all of a file up to HEAD), read at open. */
  #head: Buffer = Buffer.alloc(0);
  /** Syncs in flight: close waits for them so the descriptor is never reused under one. */
  readonly #syncs = new Set<Promise<void>>();

  private constructor(
    fd: number,
    readonly path: string,
    readonly size: SizeRecord,
    private readonly writable: boolean,
  ) {
    this.#fd = fd;
  }

  /** The envelope (recipients in file order, done or not). */
  get envelope(): QueueEnvelope {
    return this.#envelope as QueueEnvelope;
  }

  /** Message size: content bytes. */
  get contentLength(): number {
    return this.size.contentLength;
  }

  /** Recipients not yet done. */
  get pending(): StoredRecipient[] {
    return this.recipients.filter((r) => !r.done);
  }

  /** @internal On success the reader owns `fd`; on a throw the caller closes it. */
  static load(fd: number, path: string, writable: boolean): QueueFileReader {
    const incomplete = (why: string) => new QueueFileError('incomplete', path, why);
    const corrupt = (why: string) => new QueueFileError('corrupt', path, why);
    const st = fstatSync(fd);
    const head = readAt(fd, 0, Math.min(st.size, HEAD));
    if (head.length > 0 && head[0] !== REC.SIZE) throw corrupt('no size record at start of file');
    const c = decodeRecord(head.subarray(0, SIZE_RECORD_LEN), 0);
    if (c.kind === 'short') throw incomplete('file ends in the size record');
    if (c.kind === 'bad' || c.next !== SIZE_RECORD_LEN) throw corrupt('bad size record');
    const size = parseSize(c.data.toString('latin1'));
    if (size === undefined) throw corrupt('bad size record');
    if (size.fileSize === 0) throw incomplete('file was never finished');
    if (st.size < size.fileSize) throw incomplete(`file is ${st.size} bytes, ${size.fileSize} expected`);
    if (st.size > size.fileSize) throw corrupt(`file is ${st.size} bytes, ${size.fileSize} expected`);
    if (
      !(
        SIZE_RECORD_LEN <= size.contentOffset &&
        size.contentOffset < size.xtraOffset &&
        size.xtraOffset < size.fileSize
      )
    ) {
      throw corrupt('bad section offsets in size record');
    }
    if (size.contentOffset - SIZE_RECORD_LEN > MAX_SECTION || size.fileSize - size.xtraOffset > MAX_SECTION) {
      throw corrupt('envelope sections larger than any real message has');
    }
    const r = new QueueFileReader(fd, path, size, writable);
    r.#head = head;
    const env = r.#section(SIZE_RECORD_LEN, size.contentOffset + 2, REC.MESG);
    const xtra = r.#section(size.xtraOffset, size.fileSize, REC.END);
    if (xtra.records[0]?.type !== REC.XTRA) throw corrupt('no extracted section where the size record says');
    r.#envelope = r.#parseEnvelope(env, xtra, corrupt);
    if (r.recipients.length !== size.rcptCount) throw corrupt('recipient count differs from size record');
    return r;
  }

  /** Bytes `from` to `to` (fewer at end of file): from the head when it holds them. */
  #bytes(from: number, to: number): Buffer {
    if (to <= this.#head.length) return this.#head.subarray(from, to);
    if (this.#fd < 0) throw new Error(`${this.path}: queue file closed`);
    return readAt(this.#fd, from, to - from);
  }

  /** The records from `from` to exactly `to`, the last being `lastType`. */
  #section(from: number, to: number, lastType: number): Section {
    const buf = this.#bytes(from, to);
    if (buf.length < to - from)
      throw new QueueFileError('incomplete', this.path, 'file shorter than its sections');
    const records: Section['records'] = [];
    let pos = 0;
    while (pos < buf.length) {
      const d: Decoded = decodeRecord(buf, pos);
      if (d.kind !== 'record')
        throw new QueueFileError('corrupt', this.path, `bad record at offset ${from + pos}`);
      records.push({ type: d.type, start: from + d.start, data: d.data });
      pos = d.next;
    }
    if (records.at(-1)?.type !== lastType) {
      throw new QueueFileError('corrupt', this.path, `section at offset ${from} does not end where expected`);
    }
    return { records };
  }
  #parseEnvelope(env: Section, xtra: Section, corrupt: (why: string) => QueueFileError): QueueEnvelope {
    let arrival: { sec: number; usec: number } | undefined;
    let sender: string | undefined;
    let dsnEnvid: string | undefined;
    let dsnRet: number | undefined;
    let pend: { orig?: string; dsnOrcpt?: string; dsnNotify?: number } = {};
    const num = (data: Buffer, what: string): number => {
      const t = data.toString('latin1');
      if (!/^\d{1,15}$/.test(t)) throw corrupt(`bad ${what} record`);
      return Number(t);
    };
    const all = [...env.records, ...xtra.records];
    for (const [i, rec] of all.entries()) {
      const text = () => rec.data.toString('utf8');
      const inXtra = i >= env.records.length;
      switch (rec.type) {
        case REC.TIME: {
          const m = /^(\d{1,15}) (\d{1,6})$/.exec(rec.data.toString('latin1'));
          if (!m || inXtra || arrival !== undefined) throw corrupt('bad arrival time record');
          arrival = { sec: Number(m[1]), usec: Number(m[2]) };
          break;
        }
        case REC.WARN: {
          const m = /^ *(\d+)$/.exec(rec.data.toString('latin1'));
          if (!m || rec.data.length !== WARN_FIELD_WIDTH || inXtra || this.#warnOffset >= 0) {
            throw corrupt('bad warning time record');
          }
          this.#warnTime = Number(m[1]);
          this.#warnOffset = rec.start + 2;
          break;
        }
        case REC.ATTR: {
          const t = text();
          const eq = t.indexOf('=');
          if (eq <= 0) throw corrupt('bad attribute record');
          this.attributes[t.slice(0, eq)] = t.slice(eq + 1);
          break;
        }
        case REC.DSN_ENVID:
          dsnEnvid = text();
          break;
        case REC.DSN_RET:
          dsnRet = num(rec.data, 'DSN RET');
          break;
        case REC.FROM:
          if (inXtra || sender !== undefined) throw corrupt('misplaced sender record');
          sender = text();
          break;
        case REC.ORCP:
          pend.orig = text();
          break;
        case REC.DSN_ORCPT:
          pend.dsnOrcpt = text();
          break;
        case REC.DSN_NOTIFY:
          pend.dsnNotify = num(rec.data, 'DSN NOTIFY');
          break;
        case REC.RCPT:
        case REC.DONE:
          if (sender === undefined) throw corrupt('recipient before sender');
          this.recipients.push({ address: text(), ...pend, done: rec.type === REC.DONE, offset: rec.start });
          pend = {};
          break;
        case REC.MESG:
          if (inXtra || rec !== env.records.at(-1)) throw corrupt('misplaced content record');
          break;
        case REC.XTRA:
        case REC.END:
          if (!inXtra) throw corrupt('misplaced end record');
          break;
        default:
          throw corrupt(`unexpected record type ${rec.type} in envelope`);
      }
    }
    if (arrival === undefined) throw corrupt('no arrival time record');
    if (this.#warnOffset < 0) throw corrupt('no warning time record');
    if (sender === undefined) throw corrupt('no sender record');
    if (Object.keys(pend).length > 0) throw corrupt('recipient attributes without a recipient');
    return {
      arrival,
      warnTime: this.#warnTime,
      sender,
      recipients: this.recipients,
      attributes: this.attributes,
      ...(dsnEnvid === undefined ? {} : { dsnEnvid }),
      ...(dsnRet === undefined ? {} : { dsnRet }),
    };
  }

  /** The content records' payloads, in order; each Buffer stays valid (never reused). */
  *#records(): Generator<{ line: Buffer; partial: boolean }> {
    if (this.#fd < 0) throw new Error(`${this.path}: queue file closed`);
    let pos = this.size.contentOffset;
    const end = this.size.xtraOffset;
    // buf holds file bytes from bufAt on.
    let bufAt = pos;
    let buf = this.#head.subarray(Math.min(pos, this.#head.length), Math.min(end, this.#head.length));
    let first = true;
    while (pos < end) {
      const d: Decoded = decodeRecord(buf, pos - bufAt);
      if (d.kind === 'bad')
        throw new QueueFileError('corrupt', this.path, `bad content record at offset ${pos}`);
      if (d.kind === 'short') {
        const have = bufAt + buf.length;
        // A record longer than CHUNK is read whole in one go.
        const need = Math.max(CHUNK, this.#recordLength(buf.subarray(pos - bufAt)) - (have - pos));
        if (this.#fd < 0) throw new Error(`${this.path}: queue file closed`);
        const more = readAt(this.#fd, have, Math.min(need, end - have));
        if (more.length === 0)
          throw new QueueFileError('corrupt', this.path, `content record crosses offset ${end}`);
        buf = pos === have ? more : Buffer.concat([buf.subarray(pos - bufAt), more]);
        bufAt = pos;
        continue;
      }
      pos = bufAt + d.next;
      if (first) {
        if (d.type !== REC.MESG)
          throw new QueueFileError('corrupt', this.path, 'content does not start here');
        first = false;
        continue;
      }
      if (d.type !== REC.NORM && d.type !== REC.CONT) {
        throw new QueueFileError('corrupt', this.path, `unexpected record type ${d.type} in content`);
      }
      yield { line: d.data, partial: d.type === REC.CONT };
    }
  }

  /** Bytes of the record that starts `b` (header and payload), or 0 when `b` does not say yet. */
  #recordLength(b: Buffer): number {
    let len = 0;
    let shift = 0;
    for (let p = 1; p < b.length && shift <= 28; p++) {
      const x = b[p] as number;
      len += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return p + 1 + len;
      shift += 7;
    }
    return 0;
  }

  /**
   * The content as lines: `partial` is true for a piece of a line with no
   * LF after it (a long line continues in the next piece, or the message
   * ends without a final LF).
   */
  async *contentRecords(): AsyncGenerator<{ line: Buffer; partial: boolean }> {
    yield* this.#records();
  }

  /**
   * The content exactly as written, in pieces of at most CHUNK bytes
   * (a record longer than that comes as one piece).
   */
  async *contentBytes(): AsyncGenerator<Buffer> {
    let left = this.size.contentLength;
    let out = Buffer.allocUnsafe(0);
    let n = 0;
    for (const { line, partial } of this.#records()) {
      const len = line.length + (partial ? 0 : 1);
      if (n + len > out.length) {
        if (n > 0) yield out.subarray(0, n);
        left -= n;
        out = Buffer.allocUnsafe(Math.max(len, Math.min(CHUNK, left)));
        n = 0;
      }
      line.copy(out, n);
      n += line.length;
      if (!partial) out[n++] = 0x0a;
    }
    if (n > 0) yield out.subarray(0, n);
  }

  /**
   * Mark a recipient done in place: its R byte becomes D. Checks the
   * byte first, so a wrong offset cannot damage the file. Not synced: a
   * mark lost in a crash means one more delivery attempt, never a lost
   * recipient (the mailbox or log it follows was synced first).
   */
  async markDone(rcpt: StoredRecipient): Promise<void> {
    if (!this.writable) throw new Error(`${this.path}: queue file opened read-only`);
    if (this.#fd < 0) throw new Error(`${this.path}: queue file closed`);
    // The byte as read at open will do: it only ever changes from R to D.
    const b =
      rcpt.offset < this.#head.length ? this.#head.subarray(rcpt.offset) : readAt(this.#fd, rcpt.offset, 1);
    if (b[0] !== REC.DONE) {
      if (b[0] !== REC.RCPT)
        throw new QueueFileError('corrupt', this.path, `no recipient record at offset ${rcpt.offset}`);
      writeSync(this.#fd, DONE_BYTE, 0, 1, rcpt.offset);
      if (rcpt.offset < this.#head.length) this.#head[rcpt.offset] = REC.DONE;
    }
    const i = this.recipients.indexOf(rcpt);
    if (i >= 0) this.recipients[i] = { ...rcpt, done: true };
  }

  /** When a delay warning is due (seconds since the epoch), 0 when none is; follows setWarnTime (envelope.warnTime is as opened). */
  get warnTime(): number {
    return this.#warnTime;
  }

  /**
   * Set or clear (0) the delay warning time in place: a fixed-width field
   * inside one small record, rewritten by one write, then synced.
   */
  async setWarnTime(sec: number): Promise<void> {
    if (!this.writable) throw new Error(`${this.path}: queue file opened read-only`);
    if (this.#fd < 0) throw new Error(`${this.path}: queue file closed`);
    const text = Buffer.from(formatWarn(sec), 'latin1');
    writeSync(this.#fd, text, 0, text.length, this.#warnOffset);
    await this.#datasync();
    this.#warnTime = sec;
  }

  /** fdatasync in the thread pool: many files' syncs may run at once. */
  #datasync(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      fdatasync(this.#fd, (e) => (e ? reject(e) : resolve()));
    });
    const tracked = p.then(
      () => {},
      () => {},
    );
    this.#syncs.add(tracked);
    void tracked.then(() => this.#syncs.delete(tracked));
    return p;
  }

  /**
   * Close the descriptor (once; later calls do nothing). Synchronous (a
   * thread-pool close costs ten times the CPU), except for a file already
   * unlinked (pickup removes its maildrop file first): that close frees
   * the file, which may wait on the file system's journal.
   */
  async close(): Promise<void> {
    if (this.#syncs.size > 0) await Promise.all(this.#syncs);
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    let unlinked = false;
    try {
      unlinked = fstatSync(fd).nlink === 0;
    } catch {
      // Closed below all the same.
    }
    if (!unlinked) return closeSync(fd);
    await new Promise<void>((resolve, reject) => close(fd, (e) => (e ? reject(e) : resolve())));
  }
}
