/*
 * aliases - the aliases(5) entry syntax, as postalias(1) stores it
 *
 * A logical line (see table_source.ts for comments and continuation) is
 * "name: value". Both sides are read as RFC 822 tokens (atoms, "quoted
 * strings", (comments), [domain literals], special characters), so a colon
 * inside quotes does not end the name, and the value is stored in a
 * normal form: whitespace between tokens collapsed to one space where two
 * words meet or before "<", none around other specials, ", " after each
 * comma, and an atom that holds quoted specials written as a quoted
 * string. The name is stored unquoted ("a b": -> a b) and must be local
 * (no "@" outside quotes). This is what Postfix's postalias stores, so
 * lookups by local(8) find the same strings.
 */

type Token =
  | { readonly t: 'atom'; readonly text: string; readonly special: boolean }
  | { readonly t: 'qstring' | 'comment' | 'dliteral'; readonly text: string }
  | { readonly t: 'op'; readonly text: string };

const SPECIALS = '()<>@,;:\\".[]';
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** RFC 822 tokens of `s`; unterminated quotes/comments end at end of text. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (isSpace(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && s[j] !== '"') j += s[j] === '\\' && j + 1 < n ? 2 : 1;
      out.push({ t: 'qstring', text: s.slice(i + 1, Math.min(j, n)) });
      i = j + 1;
    } else if (c === '(') {
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        if (s[j] === '\\') j++;
        else if (s[j] === '(') depth++;
        else if (s[j] === ')' && --depth === 0) break;
      }
      out.push({ t: 'comment', text: s.slice(i, Math.min(j + 1, n)) });
      i = j + 1;
    } else if (c === '[') {
      let j = i + 1;
      while (j < n && s[j] !== ']') j += s[j] === '\\' && j + 1 < n ? 2 : 1;
      out.push({ t: 'dliteral', text: s.slice(i, Math.min(j + 1, n)) });
      i = j + 1;
    } else if (SPECIALS.includes(c) && c !== '\\') {
      out.push({ t: 'op', text: c });
      i++;
    } else {
      let text = '';
      let special = false;
      while (i < n) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < n) {
          const q = s[i + 1]!;
          if (SPECIALS.includes(q) || isSpace(q)) special = true;
          text += q;
          i += 2;
          continue;
        }
        if (isSpace(d) || SPECIALS.includes(d)) break;
        text += d;
        i++;
      }
      if (text === '' && i < n) {
        i++; // a lone trailing backslash
        continue;
      }
      out.push({ t: 'atom', text, special });
    }
  }
  return out;
}

const isWord = (k: Token): boolean => k.t !== 'op';

function tokenText(k: Token): string {
  if (k.t === 'qstring') return `"${k.text}"`;
  if (k.t === 'atom' && k.special) return `"${k.text.replace(/["\\]/g, '\\$&')}"`;
  return k.text;
}

/** The stored form of a value (see the header). */
export function externalize(tokens: readonly Token[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const k = tokens[i]!;
    out += tokenText(k);
    if (k.t === 'op' && k.text === ',') {
      out += ' ';
      continue;
    }
    const next = tokens[i + 1];
    if (!next || !isWord(k)) continue;
    // "|" followed by a quoted command stays glued: |"/bin/cmd arg"
    if (k.t === 'atom' && k.text.endsWith('|')) continue;
    if (isWord(next) || (next.t === 'op' && next.text === '<')) out += ' ';
  }
  return out;
}

/** The stored form of a name: quotes and escapes removed. */
function internalize(tokens: readonly Token[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const k = tokens[i]!;
    out += k.t === 'qstring' ? k.text.replace(/\\(.)/g, '$1') : k.text;
    const next = tokens[i + 1];
    if (next && isWord(k) && isWord(next)) out += ' ';
  }
  return out;
}

export type AliasEntry =
  | { readonly kind: 'entry'; readonly key: string; readonly value: string }
  | { readonly kind: 'error'; readonly warning: string };

/** Parse one logical line of an aliases file. Warnings are Postfix's, without "file, line N: ". */
export function parseAliasEntry(text: string): AliasEntry {
  const tokens = tokenize(text);
  const colon = tokens.findIndex((k) => k.t === 'op' && k.text === ':');
  if (colon <= 0 || colon === tokens.length - 1) return { kind: 'error', warning: 'need name:value pair' };
  const name = tokens.slice(0, colon);
  if (name.some((k) => k.t === 'op' && k.text === '@'))
    return { kind: 'error', warning: 'name must be local' };
  return { kind: 'entry', key: internalize(name), value: externalize(tokens.slice(colon + 1)) };
}
