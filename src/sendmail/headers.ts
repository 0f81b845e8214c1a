/*
 * headers - what sendmail -t needs from a message header
 *
 * splitHeader() finds the primary header block (lines up to the first
 * empty line or the first line that is neither a header nor a folded
 * continuation). extractRecipients() reads To, Cc and Bcc (or, when any
 * Resent- header is present, Resent-To, Resent-Cc and Resent-Bcc, as
 * Postfix does) and returns the addresses in internal form: comments and
 * display names dropped, group names and their ';' dropped, the address
 * taken from inside <> (a source route kept, as Postfix's sendmail does).
 * isBcc() tells which headers (Bcc, Resent-Bcc) the caller drops, with
 * their continuation lines, so blind recipients stay blind.
 */

import { unquote822Local } from '../global/address.js';

export interface Header {
  /** Name as written. */
  readonly name: string;
  /** The header's lines, LF-less, continuations included. */
  readonly lines: readonly string[];
}

const NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** The headers at the start of `lines`, and the index of the first line after them. */
export function splitHeader(lines: readonly string[]): { headers: Header[]; end: number } {
  const headers: { name: string; lines: string[] }[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = NAME.exec(line);
    if (m !== null) headers.push({ name: m[1] as string, lines: [line] });
    else if (/^[ \t]/.test(line) && headers.length > 0 && line.trim() !== '')
      (headers[headers.length - 1] as { lines: string[] }).lines.push(line);
    else break;
  }
  return { headers, end: i };
}

function value(h: Header): string {
  const first = (h.lines[0] as string).replace(NAME, '');
  return [first, ...h.lines.slice(1)].join(' ');
}

export function extractRecipients(headers: readonly Header[]): string[] {
  const resent = headers.some((h) => /^resent-/i.test(h.name));
  const wanted = resent ? /^resent-(to|cc|bcc)$/i : /^(to|cc|bcc)$/i;
  const out: string[] = [];
  for (const h of headers) if (wanted.test(h.name)) out.push(...parseAddressList(value(h)));
  return out;
}

export function isBcc(h: Header): boolean {
  return /^(resent-)?bcc$/i.test(h.name);
}

type Tok = { kind: 'op'; text: string } | { kind: 'word'; text: string };

/** RFC 5322 tokens; comments vanish, quoted strings keep their quotes. */
function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(') {
      let depth = 0;
      for (; i < text.length; i++) {
        const d = text[i];
        if (d === '\\') i++;
        else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      i++;
    } else if (c === '"') {
      let s = '"';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) s += text[i++];
        s += text[i];
      }
      i++;
      toks.push({ kind: 'word', text: `${s}"` });
    } else if (c === '[') {
      const end = text.indexOf(']', i);
      const stop = end < 0 ? text.length : end + 1;
      toks.push({ kind: 'word', text: text.slice(i, stop) });
      i = stop;
    } else if ('<>,;:@.'.includes(c)) {
      toks.push({ kind: 'op', text: c });
      i++;
    } else {
      let s = '';
      while (i < text.length && !/[\s()"<>,;:@.[\]]/.test(text[i] as string)) s += text[i++];
      if (s === '') {
        s = c;
        i++;
      }
      toks.push({ kind: 'word', text: s });
    }
  }
  return toks;
}

/** The addresses in an address-list header value, internal form. */
export function parseAddressList(text: string): string[] {
  const out: string[] = [];
  let cur: Tok[] = [];
  let angle = false;
  const flush = () => {
    const addr = addressOf(cur);
    if (addr !== '') out.push(addr);
    cur = [];
  };
  for (const t of tokenize(text)) {
    if (t.kind === 'op' && t.text === '<') angle = true;
    if (t.kind === 'op' && t.text === '>') angle = false;
    if (!angle && t.kind === 'op' && (t.text === ',' || t.text === ';')) {
      flush();
      continue;
    }
    // "name:" starts a group: what came before is the group's display name.
    if (!angle && t.kind === 'op' && t.text === ':') {
      cur = [];
      continue;
    }
    cur.push(t);
  }
  flush();
  return out;
}

function addressOf(toks: readonly Tok[]): string {
  const lt = toks.findIndex((t) => t.kind === 'op' && t.text === '<');
  let inner = toks;
  if (lt >= 0) {
    const gt = toks.findIndex((t, i) => i > lt && t.kind === 'op' && t.text === '>');
    // A source route stays, as in Postfix's maildrop file; cleanup's rewriting deals with it.
    inner = toks.slice(lt + 1, gt < 0 ? toks.length : gt);
  }
  const text = inner.map((t) => t.text).join('');
  return text === '' ? '' : unquote822Local(text);
}
