/*
 * tokens - the destinations on the right-hand side of an alias, and the
 * lines of a .forward or :include: file
 *
 * A list is split at commas outside quotes, <> and parentheses; each item
 * loses its surrounding white space, a (comment), and the quotes around a
 * whole item ("|cmd args", "/file name"). What is left is classified as
 * Postfix's local(8) does: ":include:/path", "|command", "/file" (a
 * Maildir when it ends in "/"), or an address ("\user" delivers to the
 * user's own mailbox, bypassing aliases).
 */

export type Destination =
  | { readonly kind: 'include'; readonly path: string }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'address'; readonly address: string; readonly bypass: boolean };

/** Split an address list at top-level commas. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  let angle = 0;
  let paren = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === '"') quote = !quote;
    else if (!quote && c === '<') angle++;
    else if (!quote && c === '>' && angle > 0) angle--;
    else if (!quote && c === '(') paren++;
    else if (!quote && c === ')' && paren > 0) paren--;
    if (c === ',' && !quote && angle === 0 && paren === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

function unquoteWhole(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(.)/gu, '$1');
  return s;
}

/** One list item as a destination; null for an empty one. */
export function classify(item: string): Destination | null {
  let s = item.replace(/\s*\([^()]*\)\s*$/u, '').trim();
  const angle = /<([^<>]*)>\s*$/u.exec(s);
  if (angle && !s.startsWith('"|') && !s.startsWith('|')) s = (angle[1] ?? '').trim();
  // "|cmd" quoted whole, or |"cmd" quoted after the bar.
  s = unquoteWhole(s);
  if (s.startsWith('|')) return { kind: 'command', command: unquoteWhole(s.slice(1).trim()) };
  if (/^:include:/iu.test(s)) return { kind: 'include', path: s.slice(':include:'.length).trim() };
  if (s.startsWith('/')) return { kind: 'file', path: s };
  if (s === '') return null;
  const bypass = s.startsWith('\\');
  const address = bypass ? s.slice(1) : s;
  return address === '' ? null : { kind: 'address', address, bypass };
}

/** The destinations of an alias value. */
export function parseList(text: string): Destination[] {
  return splitList(text)
    .map(classify)
    .filter((d): d is Destination => d !== null);
}

/** The destinations in a .forward or :include: file: one list a line, # comments. */
export function parseFile(text: string, lineLimit: number): Destination[] {
  const out: Destination[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.length > lineLimit ? raw.slice(0, lineLimit) : raw;
    if (/^\s*(#|$)/u.test(line)) continue;
    out.push(...parseList(line));
  }
  return out;
}
