/*
 * dsn_format - text helpers for delivery status notifications
 *
 * mailDate() writes an RFC 5322 date in local time with its numeric
 * offset (and Postfix's "(UTC)" comment for UTC). foldHeader() writes "Name: value" as one or more lines, breaking
 * at white space so that lines stay within 78 characters where the value
 * allows it and never exceed 998 (a longer unbroken word is split, which
 * alters nothing but the white space a reader sees). wrapReason() wraps a
 * recipient's reason for the human-readable part as Postfix's bounce
 * does: 76 columns, continuation lines indented by four spaces.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

export function mailDate(d: Date): string {
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  const zone = `${off < 0 ? '-' : '+'}${two(Math.trunc(abs / 60))}${two(abs % 60)}`;
  return (
    `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}${off === 0 ? ' (UTC)' : ''}`
  );
}

export const SOFT_LIMIT = 78;
export const HARD_LIMIT = 998;

/** Break `text` into lines of at most `width` at spaces; words longer than `hard` are split. */
function breakText(text: string, first: number, width: number, hard: number): string[] {
  const words = text.split(/[ \t\r\n]+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  let room = first;
  const flush = (): void => {
    lines.push(line);
    line = '';
    room = width;
  };
  for (let word of words) {
    while (word.length > hard) {
      if (line !== '') flush();
      line = word.slice(0, hard);
      word = word.slice(hard);
      flush();
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= room) line += ` ${word}`;
    else {
      flush();
      line = word;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** A header field, folded; white space inside the value collapses to single spaces. */
export function foldHeader(name: string, value: string): string[] {
  const head = `${name}: `;
  // The first line carries the name; continuation lines start with one tab.
  const lines = breakText(value, SOFT_LIMIT - head.length, SOFT_LIMIT - 1, HARD_LIMIT - head.length - 1);
  return lines.map((l, i) => (i === 0 ? `${head}${l}` : `\t${l}`));
}

/** A recipient's reason in the human-readable part: 76 columns, 4-space indented continuations. */
export function wrapReason(text: string): string[] {
  const lines = breakText(text, 76, 72, HARD_LIMIT - 8);
  return lines.map((l, i) => (i === 0 ? l : `    ${l}`));
}

/** True when a string holds anything outside US-ASCII (lone surrogates from raw bytes included). */
export function isEightBit(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

/** UTF-8 length; lone surrogates stand for single raw bytes. */
export function byteLength(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 1 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A message's size as Postfix counts it: its bytes with each line ending in CRLF. */
export function messageSize(text: string): number {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.reduce((n, l) => n + byteLength(l) + 2, 0);
}
