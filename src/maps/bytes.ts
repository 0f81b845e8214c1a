/*
 * bytes - table text that is not valid UTF-8, carried in JavaScript strings
 *
 * Postfix's tables hold bytes. With smtputf8_enable=yes it refuses keys,
 * values and source lines that are not valid UTF-8; with it off, bytes
 * pass through untouched. JavaScript strings are UTF-16, and Node's UTF-8
 * decoding turns a bad byte into U+FFFD, losing it. So every place where
 * table text enters (source files, stdin, the command line) decodes with
 * decodeBytes(): valid UTF-8 becomes the usual string, and each byte that
 * is not part of a valid sequence becomes the lone surrogate U+DC80..U+DCFF
 * (Python's "surrogateescape"). Lone surrogates never come out of valid
 * UTF-8, so hasRawBytes() tells the two apart, and encodeBytes() gives the
 * original bytes back wherever text leaves (table files, stdout). Valid
 * text pays one scan for U+FFFD on the way in and one regex test on the
 * way out.
 */
import { readFileSync } from 'node:fs';

const RAW = /[\uDC80-\uDCFF]/u;
const RAW_ALL = /[\uDC80-\uDCFF]/gu;

// Without /u the test is a plain code unit scan, much faster; it also hits the
// second half of some surrogate pairs, which the exact /u test then clears.
const RAW_UNIT = /[\uDC80-\uDCFF]/;

/** Does the text hold bytes that were not valid UTF-8? (A surrogate pair is one code point under /u.) */
export const hasRawBytes = (text: string): boolean => RAW_UNIT.test(text) && RAW.test(text);

/** Length of the valid UTF-8 sequence at buf[i] (0 when invalid), as a strict decoder sees it. */
function sequence(buf: Uint8Array, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + n > buf.length) return 0;
  const c1 = buf[i + 1]!;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

/** Bytes to text: valid UTF-8 as usual, every other byte as U+DC80..U+DCFF. */
export function decodeBytes(buf: Uint8Array): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < buf.length) {
    const n = sequence(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (i > start) parts.push(Buffer.from(buf.subarray(start, i)).toString('utf8'));
    parts.push(String.fromCharCode(0xdc00 + buf[i]!));
    i++;
    start = i;
  }
  if (start < buf.length) parts.push(Buffer.from(buf.subarray(start)).toString('utf8'));
  return parts.join('');
}

/** Text back to bytes: the inverse of decodeBytes. */
export function encodeBytes(text: string): Buffer {
  if (!hasRawBytes(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (const m of text.matchAll(RAW_ALL)) {
    const at = m.index ?? 0;
    if (at > start) parts.push(Buffer.from(text.slice(start, at), 'utf8'));
    parts.push(Buffer.of(text.charCodeAt(at) - 0xdc00));
    start = at + 1;
  }
  if (start < text.length) parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Text for a log line, as Postfix's msg output shows it: with SMTPUTF8,
 * valid UTF-8 kept and bad bytes as "?"; without, everything non-ASCII as "?".
 */
export function printable(text: string, utf8: boolean): string {
  if (utf8) return text.replace(RAW_ALL, '?');
  return encodeBytes(text)
    .toString('latin1')
    .replace(/[\x80-\xff]/g, '?');
}

/**
 * The command's arguments as bytes-preserving text. Node decodes argv as
 * UTF-8 with U+FFFD; on Linux /proc/self/cmdline still has the bytes. Falls
 * back to Node's argv when that file is missing or does not line up.
 */
export function rawArgv(): string[] {
  const argv = process.argv.slice(2);
  let raw: Buffer;
  try {
    raw = readFileSync('/proc/self/cmdline');
  } catch {
    return argv;
  }
  const fields: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      fields.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (fields.length < argv.length) return argv;
  const mine = fields.slice(fields.length - argv.length).map(decodeBytes);
  // Valid arguments must read the same both ways, or the fields are not ours.
  for (let i = 0; i < argv.length; i++) {
    if (!hasRawBytes(mine[i]!) && mine[i] !== argv[i]) return argv;
  }
  return mine;
}
