/*
 * master_cf_tokens - the lexical layer of master.cf
 *
 * Physical lines are classified (comment or blank, start of a logical line,
 * continuation), fields are split on whitespace except inside "{...}", and
 * "{ text }" arguments are unwrapped the way Postfix's extpar() does: the
 * braces and the whitespace just inside them go, a missing "}" or text after
 * "}" is a warning, never an error. Nothing here knows what a field means.
 */

export const MASTER_BLANKS = ' \t\r\n';

export type PhysicalKind = 'comment' | 'start' | 'continue';

/** One line of the file as read, without its newline. */
export interface PhysicalLine {
  readonly text: string;
  /** Whether the file had a newline after it (the last line may not). */
  readonly newline: boolean;
  readonly kind: PhysicalKind;
}

function isBlank(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** Empty, whitespace-only and "#..." lines are comments; leading whitespace continues. */
export function classifyLine(text: string): PhysicalKind {
  let i = 0;
  while (i < text.length && isBlank(text[i]!)) i++;
  if (i === text.length || text[i] === '#') return 'comment';
  return i === 0 ? 'start' : 'continue';
}

export function splitPhysicalLines(text: string): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end);
    out.push({ text: line, newline: nl >= 0, kind: classifyLine(line) });
    pos = end + 1;
  }
  return out;
}

/**
 * Split on blanks, keeping "{...}" groups (with their blanks) in one token.
 * An unbalanced "{" swallows the rest of the text; a stray "}" is ordinary.
 */
export function splitBraced(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && isBlank(text[i]!)) i++;
    if (i >= text.length) return tokens;
    const start = i;
    let level = 0;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '{') level++;
      else if (level > 0 && ch === '}') level--;
      else if (level === 0 && isBlank(ch)) break;
    }
    tokens.push(text.slice(start, i));
  }
}

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isBlank(s[a]!)) a++;
  while (b > a && isBlank(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/**
 * "{ text }" -> "text". The warning (if any) is Postfix's wording, without
 * the "master.cf: " context that the caller adds.
 */
export function unbrace(token: string): { text: string; warning?: string } {
  let level = 0;
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '{') level++;
    else if (ch === '}' && --level === 0) {
      const inner = trimBlanks(token.slice(1, i));
      if (trimBlanks(token.slice(i + 1)) !== '')
        return { text: inner, warning: `syntax error after '}' in "${token}"` };
      return { text: inner };
    }
  }
  return { text: trimBlanks(token.slice(1)), warning: `missing '}' in "${token}"` };
}

export function hasBlank(s: string): boolean {
  for (const ch of s) if (isBlank(ch)) return true;
  return false;
}

/** How Postfix shows text with blanks in master.cf: wrapped in braces. */
export function braceIfBlank(s: string): string {
  return hasBlank(s) ? `{${s}}` : s;
}

/**
 * Postfix's "name = value" splitter: the name must not be empty, the "="
 * must be there; blanks around the name and the value are dropped.
 */
export function splitNameValue(
  text: string,
): { kind: 'ok'; name: string; value: string } | { kind: 'error'; message: string } {
  let a = 0;
  while (a < text.length && isBlank(text[a]!)) a++;
  if (a === text.length || text[a] === '=') return { kind: 'error', message: 'missing attribute name' };
  const eq = text.indexOf('=', a);
  if (eq < 0) return { kind: 'error', message: "missing '=' after attribute name" };
  return { kind: 'ok', name: trimBlanks(text.slice(a, eq)), value: trimBlanks(text.slice(eq + 1)) };
}

/**
 * Text for a diagnostic: control and non-ASCII bytes shown as "?", like
 * Postfix's printable(). master.cf text is handled as latin1 (one char per
 * byte) so that untouched lines are rewritten byte for byte.
 */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
