/*
 * queue_id - Postfix queue IDs (queue file names), short and long form
 *
 * A queue ID is made from the queue file's creation time and inode number,
 * so two files that exist at the same time never share a name.
 *
 *   short (enable_long_queue_ids = no): the microseconds as exactly five
 *     upper-case hex digits, then the inode number in upper-case hex
 *     ("C3CD21F3E90"). Names repeat over time.
 *   long (enable_long_queue_ids = yes): the seconds (at least six
 *     characters) and the microseconds (exactly four) in a 52-character
 *     alphabet without vowels, a 'z', then the inode number in the first
 *     51 characters of that alphabet ("3Pt2mN2VXxznjll"). Never repeats.
 *
 * Queue hashing uses the microseconds in hex for both forms, so switching
 * forms keeps a message in the same subdirectory.
 */

/** Digits, then consonants: the vowel-free alphabet of long queue IDs. */
export const SAFE_ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz';
const LG_BASE = 52;
const LG_INUM_BASE = 51;
const LG_SEC_PAD = 6;
const LG_USEC_PAD = 4;
const LG_INUM_SEP = 'z';
const SH_USEC_PAD = 5;

/** Longest queue ID we accept as a file name (far above any real one). */
const MAX_ID_LEN = 64;

const SHORT_RE = /^[0-9A-F]{6,}$/;
// The time fields may contain 'z'; the inode field never does, so the last 'z' separates.
const LONG_RE = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$/;

function encode(n: bigint, base: number, pad: number): string {
  const b = BigInt(base);
  let out = '';
  do {
    out = SAFE_ALPHABET[Number(n % b)] + out;
    n /= b;
  } while (n > 0n);
  return out.padStart(pad, '0');
}

function decode(text: string, base: number): bigint | undefined {
  let n = 0n;
  for (const ch of text) {
    const d = SAFE_ALPHABET.indexOf(ch);
    if (d < 0 || d >= base) return undefined;
    n = n * BigInt(base) + BigInt(d);
  }
  return n;
}

export interface QueueIdTime {
  /** Seconds since the epoch. */
  readonly sec: number;
  /** Microseconds within the second, 0..999999. */
  readonly usec: number;
}

/**
 * The current time with microseconds, as Postfix stamps a new queue file:
 * the monotonic clock, anchored to the wall clock and re-anchored when the
 * two drift more than a second apart (clock steps, long uptimes).
 */
export function queueIdNow(): QueueIdTime {
  let ns = process.hrtime.bigint() + anchorNs;
  const wall = BigInt(Date.now()) * 1_000_000n;
  if (ns - wall > 1_000_000_000n || wall - ns > 1_000_000_000n) {
    anchorNs = wallAnchor();
    ns = process.hrtime.bigint() + anchorNs;
  }
  return { sec: Number(ns / 1_000_000_000n), usec: Number((ns / 1000n) % 1_000_000n) };
}

function wallAnchor(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();
}
let anchorNs = wallAnchor();

function checkTime(t: QueueIdTime): void {
  if (!Number.isInteger(t.sec) || t.sec < 0 || !Number.isInteger(t.usec) || t.usec < 0 || t.usec > 999_999) {
    throw new RangeError(`bad queue ID time: ${t.sec}.${t.usec}`);
  }
}

/** The short queue ID for a file created at `t` with inode `inode`. */
export function shortQueueId(t: QueueIdTime, inode: number | bigint): string {
  checkTime(t);
  return (
    t.usec.toString(16).toUpperCase().padStart(SH_USEC_PAD, '0') + BigInt(inode).toString(16).toUpperCase()
  );
}

/** The long queue ID for a file created at `t` with inode `inode`. */
export function longQueueId(t: QueueIdTime, inode: number | bigint): string {
  checkTime(t);
  return (
    encode(BigInt(t.sec), LG_BASE, LG_SEC_PAD) +
    encode(BigInt(t.usec), LG_BASE, LG_USEC_PAD) +
    LG_INUM_SEP +
    encode(BigInt(inode), LG_INUM_BASE, 1)
  );
}

/** The queue ID as enable_long_queue_ids selects. */
export function makeQueueId(long: boolean, t: QueueIdTime, inode: number | bigint): string {
  return long ? longQueueId(t, inode) : shortQueueId(t, inode);
}

export function isShortQueueId(id: string): boolean {
  return id.length <= MAX_ID_LEN && SHORT_RE.test(id);
}

export function isLongQueueId(id: string): boolean {
  return id.length <= MAX_ID_LEN && LONG_RE.test(id);
}

/** Is this a queue ID of either form (so a safe file name in a queue)? */
export function isQueueId(id: string): boolean {
  return isShortQueueId(id) || isLongQueueId(id);
}

export interface ParsedQueueId {
  readonly form: 'short' | 'long';
  /** Seconds; absent in short IDs, which do not record them. */
  readonly sec?: number;
  readonly usec: number;
  readonly inode: bigint;
}

/** Take a queue ID apart; undefined when it is not one. */
export function parseQueueId(id: string): ParsedQueueId | undefined {
  if (isShortQueueId(id)) {
    const usec = Number.parseInt(id.slice(0, SH_USEC_PAD), 16);
    return { form: 'short', usec, inode: BigInt(`0x${id.slice(SH_USEC_PAD)}`) };
  }
  if (!isLongQueueId(id)) return undefined;
  const z = id.lastIndexOf(LG_INUM_SEP);
  const sec = decode(id.slice(0, z - LG_USEC_PAD), LG_BASE);
  const usec = decode(id.slice(z - LG_USEC_PAD, z), LG_BASE);
  const inode = decode(id.slice(z + 1), LG_INUM_BASE);
  if (sec === undefined || usec === undefined || inode === undefined || usec > 999_999n) return undefined;
  return { form: 'long', sec: Number(sec), usec: Number(usec), inode };
}

/**
 * The characters that pick a queue ID's hashed subdirectories: the
 * microseconds in five hex digits, whatever the ID's form. Undefined for a
 * name that is not a queue ID; callers then hash the name itself.
 */
export function queueIdHashKey(id: string): string | undefined {
  const p = parseQueueId(id);
  if (p === undefined) return undefined;
  return p.form === 'short' ? id : p.usec.toString(16).toUpperCase().padStart(SH_USEC_PAD, '0');
}
