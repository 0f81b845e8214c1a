/*
 * queue_file - the queue file format shared by writer and reader
 *
 * A queue file is a sequence of records: one type byte, the payload length
 * as a little-endian base-128 varint (low seven bits first, high bit set
 * on every byte but the last), then the payload. Sections, in order:
 *
 *   C            sizes (fixed width, patched in place before the file is synced)
 *   envelope     T, W, A*, i?, <?, S, recipient groups
 *   M            start of content
 *   content      N (a line that ended in LF) and L (a piece of a line
 *                with no LF after it yet: a long line, or the last line)
 *   X            start of the extracted section (recipients added after
 *                the content was written)
 *   E            end of file
 *
 * A recipient group is O? o? n? then R (to deliver) or D (done). Marking a
 * recipient done overwrites the one R byte with D: a single-byte write,
 * which the file system does atomically, so the file is never rewritten.
 *
 * The C record holds the total file size; a file whose size differs, or
 * that lacks the E record where C says, is torn (see docs/queue.md).
 */

export const REC = Object.freeze({
  SIZE: 0x43, // C
  TIME: 0x54, // T arrival "sec usec"
  WARN: 0x57, // W delay warning due, fixed width (overwritten in place), 0 = none
  ATTR: 0x41, // A name=value
  FROM: 0x53, // S envelope sender ("" for the null sender)
  ORCP: 0x4f, // O original recipient
  DSN_ORCPT: 0x6f, // o DSN ORCPT ("rfc822;user@example")
  DSN_NOTIFY: 0x6e, // n DSN NOTIFY bit mask, decimal
  DSN_ENVID: 0x69, // i DSN ENVID
  DSN_RET: 0x3c, // < DSN RET bit mask, decimal
  RCPT: 0x52, // R recipient still to deliver
  DONE: 0x44, // D recipient done
  MESG: 0x4d, // M content starts
  NORM: 0x4e, // N a full line (its LF not stored)
  CONT: 0x4c, // L part of a line, no LF
  XTRA: 0x58, // X extracted section starts
  END: 0x45, // E end of file
});

/** DSN NOTIFY bits, as Postfix numbers them. */
export const DSN_NOTIFY = Object.freeze({ NEVER: 1, SUCCESS: 2, FAILURE: 4, DELAY: 8 });
/** DSN RET values. */
export const DSN_RET = Object.freeze({ FULL: 1, HDRS: 2 });

/** Width of each number in the C record, and how many there are. */
export const SIZE_FIELD_WIDTH = 15;
export const SIZE_FIELDS = 5;
export const SIZE_PAYLOAD_LEN = SIZE_FIELDS * SIZE_FIELD_WIDTH + (SIZE_FIELDS - 1);
/** Bytes of the whole C record (type, one length byte, payload). */
export const SIZE_RECORD_LEN = 2 + SIZE_PAYLOAD_LEN;

/** Width of the W record's time (seconds), so qmgr can overwrite it in place. */
export const WARN_FIELD_WIDTH = 15;

export function formatWarn(sec: number): string {
  if (!Number.isInteger(sec) || sec < 0 || sec >= 10 ** WARN_FIELD_WIDTH)
    throw new RangeError(`bad warning time: ${sec}`);
  return String(sec).padStart(WARN_FIELD_WIDTH, ' ');
}

/** Largest payload we write or accept; content lines are cut into pieces far smaller. */
export const MAX_RECORD_PAYLOAD = 1 << 24;
/** Default size of the pieces a long content line is cut into. */
export const DEFAULT_CONTENT_RECORD = 4096;

export interface SizeRecord {
  /** Offset of the M record. */
  readonly contentOffset: number;
  /** Offset of the X record. */
  readonly xtraOffset: number;
  /** Message size: bytes of content, each line with its LF. */
  readonly contentLength: number;
  /** Recipients in the file, done or not. */
  readonly rcptCount: number;
  /** Bytes of the whole file. */
  readonly fileSize: number;
}

export function formatSize(s: SizeRecord): string {
  return [s.contentOffset, s.xtraOffset, s.contentLength, s.rcptCount, s.fileSize]
    .map((n) => String(n).padStart(SIZE_FIELD_WIDTH, ' '))
    .join(' ');
}

export function parseSize(text: string): SizeRecord | undefined {
  if (text.length !== SIZE_PAYLOAD_LEN) return undefined;
  const f = text.trim().split(/ +/);
  if (f.length !== SIZE_FIELDS || !f.every((x) => /^\d{1,15}$/.test(x))) return undefined;
  const [contentOffset, xtraOffset, contentLength, rcptCount, fileSize] = f.map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { contentOffset, xtraOffset, contentLength, rcptCount, fileSize };
}

export interface QueueRecipient {
  /** The recipient address as delivery sees it. */
  readonly address: string;
  /** The address before any rewriting (Postfix's original recipient). */
  readonly orig?: string;
  /** DSN ORCPT as given by the client ("rfc822;user@example"). */
  readonly dsnOrcpt?: string;
  /** DSN NOTIFY bits (DSN_NOTIFY), 0 or absent when not given. */
  readonly dsnNotify?: number;
}

export interface QueueEnvelope {
  /** Arrival time. */
  readonly arrival: { readonly sec: number; readonly usec: number };
  /** When a delay warning is due (seconds since the epoch); 0 or absent: none. */
  readonly warnTime?: number;
  /** Envelope sender; "" is the null sender. */
  readonly sender: string;
  readonly recipients: readonly QueueRecipient[];
  /** Named attributes: client info, protocol, helo, sasl, rewrite context... */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly dsnEnvid?: string;
  /** DSN RET (DSN_RET), absent when not given. */
  readonly dsnRet?: number;
}

/** The records of one recipient group, in file order: O? o? n? R. */
export function recipientRecords(r: QueueRecipient): [number, string][] {
  const out: [number, string][] = [];
  if (r.orig !== undefined) out.push([REC.ORCP, r.orig]);
  if (r.dsnOrcpt !== undefined) out.push([REC.DSN_ORCPT, r.dsnOrcpt]);
  if (r.dsnNotify !== undefined && r.dsnNotify !== 0) out.push([REC.DSN_NOTIFY, String(r.dsnNotify)]);
  out.push([REC.RCPT, r.address]);
  return out;
}

/** Encode one record. */
export function encodeRecord(type: number, payload: Uint8Array | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (data.length > MAX_RECORD_PAYLOAD) throw new RangeError(`queue file record too long: ${data.length}`);
  const len: number[] = [];
  let n = data.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  const out = Buffer.allocUnsafe(1 + len.length + data.length);
  out[0] = type;
  for (let i = 0; i < len.length; i++) out[1 + i] = len[i] as number;
  out.set(data, 1 + len.length);
  return out;
}

export type Decoded =
  | {
      readonly kind: 'record';
      readonly type: number;
      readonly start: number;
      readonly data: Buffer;
      readonly next: number;
    }
  | { readonly kind: 'short' }
  | { readonly kind: 'bad'; readonly reason: string };

/** Decode the record at `pos` in `buf`; 'short' when `buf` ends inside it. */
export function decodeRecord(buf: Buffer, pos: number): Decoded {
  if (pos >= buf.length) return { kind: 'short' };
  const type = buf[pos] as number;
  let len = 0;
  let shift = 0;
  let p = pos + 1;
  for (;;) {
    if (p >= buf.length) return { kind: 'short' };
    const b = buf[p++] as number;
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) return { kind: 'bad', reason: 'record length field too long' };
  }
  if (len > MAX_RECORD_PAYLOAD) return { kind: 'bad', reason: `record length ${len} too large` };
  if (p + len > buf.length) return { kind: 'short' };
  return { kind: 'record', type, start: pos, data: buf.subarray(p, p + len), next: p + len };
}

/** A queue file that cannot be used: torn (incomplete), damaged (corrupt) or gone (missing). */
export type QueueFileErrorKind = 'incomplete' | 'corrupt' | 'missing';

export class QueueFileError extends Error {
  constructor(
    readonly kind: QueueFileErrorKind,
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'QueueFileError';
  }
}
