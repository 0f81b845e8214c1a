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
 * recipient's type byte (R to D) and syncs before it resolves.
 */

import { type FileHandle, open } from 'node:fs/promises';
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

const CHUNK = 64 * 1024;
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
  let fh: FileHandle;
  try {
    fh = await open(path, opts.write ? 'r+' : 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      return { ok: false, error: new QueueFileError('missing', path, 'no such file') };
    throw e;
  }
  try {
    const file = await QueueFileReader.load(fh, path, opts.write === true);
    return { ok: true, file };
  } catch (e) {
    await fh.close().catch(() => {});
    if (e instanceof QueueFileError) return { ok: false, error: e };
    throw e;
  }
}

/** Read `len` bytes at `pos`, or fewer at end of file. */
async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
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

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly size: SizeRecord,
    private readonly writable: boolean,
  ) {}

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

  /** @internal */
  static async load(fh: FileHandle, path: string, writable: boolean): Promise<QueueFileReader> {
    const incomplete = (why: string) => new QueueFileError('incomplete', path, why);
    const corrupt = (why: string) => new QueueFileError('corrupt', path, why);
    const st = await fh.stat();
    const head = await readAt(fh, 0, SIZE_RECORD_LEN);
    if (head.length > 0 && head[0] !== REC.SIZE) throw corrupt('no size record at start of file');
    const c = decodeRecord(head, 0);
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
    const r = new QueueFileReader(fh, path, size, writable);
    const env = await r.#section(SIZE_RECORD_LEN, size.contentOffset + 2, REC.MESG);
    const xtra = await r.#section(size.xtraOffset, size.fileSize, REC.END);
    if (xtra.records[0]?.type !== REC.XTRA) throw corrupt('no extracted section where the size record says');
    r.#envelope = r.#parseEnvelope(env, xtra, corrupt);
    if (r.recipients.length !== size.rcptCount) throw corrupt('recipient count differs from size record');
    return r;
  }

  /** The records from `from` to exactly `to`, the last being `lastType`. */
  async #section(from: number, to: number, lastType: number): Promise<Section> {
    const buf = await readAt(this.fh, from, to - from);
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

  /**
   * The content as lines: `partial` is true for a piece of a line with no
   * LF after it (a long line continues in the next piece, or the message
   * ends without a final LF).
   */
  async *contentRecords(): AsyncGenerator<{ line: Buffer; partial: boolean }> {
    let pos = this.size.contentOffset;
    const end = this.size.xtraOffset;
    let buf = Buffer.alloc(0);
    let bufAt = pos;
    let first = true;
    while (pos < end) {
      const d = decodeRecord(buf, pos - bufAt);
      if (d.kind === 'bad')
        throw new QueueFileError('corrupt', this.path, `bad content record at offset ${pos}`);
      if (d.kind === 'short') {
        const more = await readAt(this.fh, bufAt + buf.length, Math.min(CHUNK, end - (bufAt + buf.length)));
        if (more.length === 0)
          throw new QueueFileError('corrupt', this.path, `content record crosses offset ${end}`);
        buf = Buffer.concat([buf.subarray(pos - bufAt), more]);
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
      yield { line: Buffer.from(d.data), partial: d.type === REC.CONT };
    }
  }

  /** The content exactly as written, in pieces. */
  async *contentBytes(): AsyncGenerator<Buffer> {
    const lf = Buffer.from('\n');
    for await (const { line, partial } of this.contentRecords()) {
      yield partial ? line : Buffer.concat([line, lf]);
    }
  }

  /**
   * Mark a recipient done in place: its R byte becomes D, then the file
   * is synced. Checks the byte first, so a wrong offset cannot damage the file.
   */
  async markDone(rcpt: StoredRecipient): Promise<void> {
    if (!this.writable) throw new Error(`${this.path}: queue file opened read-only`);
    const b = await readAt(this.fh, rcpt.offset, 1);
    if (b[0] === REC.DONE) return;
    if (b[0] !== REC.RCPT)
      throw new QueueFileError('corrupt', this.path, `no recipient record at offset ${rcpt.offset}`);
    await this.fh.write(Buffer.of(REC.DONE), 0, 1, rcpt.offset);
    await this.fh.datasync();
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
    const text = Buffer.from(formatWarn(sec), 'latin1');
    await this.fh.write(text, 0, text.length, this.#warnOffset);
    await this.fh.datasync();
    this.#warnTime = sec;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
