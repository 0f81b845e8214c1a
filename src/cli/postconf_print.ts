/*
 * postconf_print - one "name = value" line as postconf prints it
 *
 * postconf never prints a value's whitespace as written: the value is cut
 * into words and joined with single spaces, so "a<TAB>b  c" shows as
 * "a b c". With -f the words of the whole line (name and "=" included) are
 * filled greedily into lines of at most 80 columns; continuation lines are
 * indented by 4 spaces, which is also how main.cf continues a line, so the
 * output can be pasted back. A word longer than the line stands alone.
 * An empty value prints as "name =" (no trailing space).
 */

export const FOLD_WIDTH = 80;
export const FOLD_INDENT = '    ';

export interface PrintFlags {
  /** -h: value only. */
  readonly noNames: boolean;
  /** -H: name only. */
  readonly noValues: boolean;
  /** -f: fold long lines. */
  readonly fold: boolean;
}

function words(text: string): string[] {
  return text.split(/[ \t\r\n\v\f]+/).filter((w) => w !== '');
}

/** Greedy fill of words into lines of at most FOLD_WIDTH columns. */
export function foldWords(ws: readonly string[]): string {
  const lines: string[] = [];
  let line = '';
  for (const w of ws) {
    if (line === '') {
      line = lines.length === 0 ? w : FOLD_INDENT + w;
    } else if (line.length + 1 + w.length <= FOLD_WIDTH) {
      line += ` ${w}`;
    } else {
      lines.push(line);
      line = FOLD_INDENT + w;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

/** The output line(s) for one parameter, without the final newline. */
export function formatParam(name: string, value: string, f: PrintFlags): string {
  if (f.noValues) return name;
  const ws = f.noNames ? words(value) : [name, '=', ...words(value)];
  return f.fold ? foldWords(ws) : ws.join(' ');
}
