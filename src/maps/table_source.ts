/*
 * table_source - the postmap(1) source file syntax
 *
 * A source file is a sequence of logical lines. Blank lines, lines of only
 * whitespace, and lines whose first non-blank character is '#' are skipped;
 * a line that starts with whitespace continues the previous logical line.
 * Continuation text is appended as is (newline removed, leading whitespace
 * kept), as Postfix does, so "a b\n  c" has the value "b  c". A logical line
 * is reported by the number of its first physical line.
 *
 * An entry is "key whitespace value". A key may hold whitespace inside
 * double quotes (Postfix 3.2+); the quotes stay part of the stored key,
 * exactly as Postfix stores them. Surrounding whitespace of the value is
 * removed. Nothing here allocates more than the input's own lines.
 */

export interface LogicalLine {
  /** Number of the first physical line (1-based). */
  readonly line: number;
  readonly text: string;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09 || (c >= 0x0a && c <= 0x0d);

/**
 * The logical lines of a source text, comments and blank lines removed. A
 * logical line that starts with whitespace (at the top of the file) is
 * dropped with Postfix's warning, given to `warn` without the program name.
 */
export function* logicalLines(
  text: string,
  source: string,
  warn: (text: string) => void,
): Generator<LogicalLine> {
  let orphan = false; // the pending text is an indented first line
  let pending: string | null = null;
  let pendingLine = 0;
  let lineNo = 0;
  let pos = 0;
  const end = text.length;
  while (pos < end) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = end;
    const raw = text.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    let i = 0;
    while (i < raw.length && isBlank(raw.charCodeAt(i))) i++;
    if (i === raw.length || raw.charCodeAt(i) === 0x23 /* # */) continue;
    if (i > 0 && pending !== null) {
      pending += raw;
      continue;
    }
    if (pending !== null) {
      if (orphan) warn(`${source}: logical line must not start with whitespace: "${trimEnd(pending)}"`);
      else yield { line: pendingLine, text: trimEnd(pending) };
    }
    orphan = i > 0;
    pending = raw;
    pendingLine = lineNo;
  }
  if (pending !== null) {
    if (orphan) warn(`${source}: logical line must not start with whitespace: "${trimEnd(pending)}"`);
    else yield { line: pendingLine, text: trimEnd(pending) };
  }
}

export function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && isBlank(s.charCodeAt(e - 1))) e--;
  return e === s.length ? s : s.slice(0, e);
}

export type Entry =
  | { readonly kind: 'entry'; readonly key: string; readonly value: string }
  | { readonly kind: 'error'; readonly warning: string };

/**
 * Split a logical line into key and value. The warning text is Postfix's,
 * without the "file, line N: " prefix the caller adds.
 */
export function parseEntry(text: string): Entry {
  let i = 0;
  let quoted = false;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c /* \ */ && i + 1 < n) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (isBlank(c)) {
      break;
    }
  }
  if (quoted) return { kind: 'error', warning: `unbalanced '"' in '${text}' -- ignoring this line` };
  const key = text.slice(0, i);
  while (i < n && isBlank(text.charCodeAt(i))) i++;
  if (i >= n || key === '') return { kind: 'error', warning: 'expected format: key whitespace value' };
  return { kind: 'entry', key, value: text.slice(i) };
}
