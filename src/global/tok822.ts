/*
 * tok822 - RFC 822 address lists in header values, as Postfix reads them
 *
 * tok822Parse() turns the text of an address header (what follows the
 * colon) into a token list where each address is one 'addr' node, the
 * way Postfix's cleanup sees it: phrases, comments, group names, "<", ">"
 * and commas stay outside the address nodes; a comment inside an address
 * is moved just behind it; two addresses with no comma between them get
 * one ("a@x b@y" reads as "a@x, b@y"); "name: a, b;" is a group whose
 * members are addresses of their own. Parsing never fails: unbalanced
 * quotes, comments and literals end at the end of the text.
 *
 * The lists are printed back with tok822Externalize() (quoted, RFC 5322
 * text; "head" mode puts a newline after each separating comma for
 * foldHeader and limits the text around one address to 250 bytes) or
 * tok822Internalize() (unquoted). A header whose addresses are not
 * rewritten is never printed back: callers keep its original bytes.
 *
 * quote822Local / unquote822Local convert one address between internal
 * (unquoted) and external (quoted) form with Postfix's exact rules, a
 * leading source route "@a,@b:" being left alone.
 */

export type TokKind = 'atom' | 'qstring' | 'domlit' | 'comment' | 'op' | 'startgrp' | 'addr';

export interface Tok {
  readonly kind: TokKind;
  /** atom text; qstring/domlit content without delimiters or escapes; comment with its parentheses; op character. */
  readonly text: string;
  /** The tokens of an 'addr' node. */
  readonly children?: Tok[];
  /** Moved or added inside an address by rewriting: printed without a space after it (Postfix's token owner). */
  readonly owned?: boolean;
}

/** A token list that is the content of a parsed address (printed without spaces). */
interface AddrTok extends Tok {
  readonly kind: 'addr';
  children: Tok[];
  /** Tokens that came from re-scanning rewritten text: spaced like a top-level list. */
  rescanned: boolean;
}

/** Operators that end an atom: Postfix's "|%!" plus the RFC 822 specials. */
const OPCHARS = '|%!()<>@,;:\\".[]';
const isWhite = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isCntrl = (c: string) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127;

/** Split text into tokens; limit > 0 stops after that many (header_address_token_limit). */
export function tok822Scan(text: string, limit = 0): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  // Quoted strings, literals and atoms: a backslash takes the next character
  // literally, white space inside becomes one plain space character.
  const collect = (stop: (c: string) => boolean): string => {
    let s = '';
    while (i < text.length) {
      let c = text[i]!;
      if (c === '\\') {
        if (i + 1 >= text.length) {
          i++;
          break;
        }
        c = text[++i]!;
      } else if (stop(c)) break;
      s += isWhite(c) ? ' ' : c;
      i++;
    }
    return s;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (isWhite(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      i++;
      out.push({ kind: 'comment', text: scanComment() });
    } else if (c === '[' || c === '"') {
      i++;
      const content = collect((x) => x === (c === '[' ? ']' : '"'));
      if (i < text.length) i++;
      out.push({ kind: c === '[' ? 'domlit' : 'qstring', text: content });
    } else if (c !== '\\' && OPCHARS.includes(c)) {
      i++;
      out.push({ kind: 'op', text: c });
    } else {
      const atom = collect((x) => isWhite(x) || OPCHARS.includes(x));
      // An atom that escapes made unusual is a quoted string.
      const odd = [...atom].some((x) => x === ' ' || isCntrl(x) || OPCHARS.includes(x));
      out.push({ kind: odd ? 'qstring' : 'atom', text: atom });
    }
    if (limit > 0 && out.length >= limit) break;
  }
  return out;

  function scanComment(): string {
    let s = '(';
    let level = 1;
    while (i < text.length) {
      const c = text[i++]!;
      s += c;
      if (c === '(') level++;
      else if (c === ')') {
        if (--level === 0) break;
      } else if (c === '\\') {
        if (i >= text.length) break;
        s += text[i++];
      }
    }
    return s;
  }
}

const isWord = (t: Tok) => t.kind === 'atom' || t.kind === 'qstring' || t.kind === 'domlit';
const isOp = (t: Tok | undefined, chars: string) =>
  t !== undefined && t.kind === 'op' && chars.includes(t.text);
const comma = (): Tok => ({ kind: 'op', text: ',' });
const addr = (children: Tok[], rescanned = false): AddrTok => ({
  kind: 'addr',
  text: '',
  children,
  rescanned,
});

/**
 * Group the tokens of an address list into address nodes. The list is
 * read from right to left, as Postfix does, so that "<...>" and
 * "group: ...;" are recognised from their closing token.
 */
export function tok822Parse(text: string, limit = 0): Tok[] {
  const toks = tok822Scan(text, limit);
  // done: the finished part, right of the cursor; run: ungrouped tokens between.
  let done: Tok[] = [];
  let run: Tok[] = [];
  let wordOk = true;
  let inGroup = false;
  // After "<...>" the token on the left is a boundary, never part of an address.
  let boundary = false;
  /** Make the run one address; a separating comma goes before it when asked. */
  const close = (sync: boolean) => {
    if (run.length === 0) return;
    done = sync ? [comma(), addr(run), ...done] : [addr(run), ...done];
    run = [];
  };
  let j = toks.length - 1;
  while (j >= 0) {
    const t = toks[j]!;
    const atBoundary = boundary;
    boundary = false;
    if (t.kind === 'comment') {
      done.unshift(t);
    } else if (isOp(t, ';')) {
      close(true);
      done.unshift(t);
      inGroup = true;
      wordOk = true;
    } else if (isOp(t, ':') && inGroup) {
      close(false);
      done.unshift({ kind: 'startgrp', text: ':' });
      // The group name stays as it is, up to the previous comma.
      for (j--; j >= 0 && !isOp(toks[j], ','); j--) done.unshift(toks[j]!);
      continue;
    } else if (isOp(t, '>')) {
      close(true);
      done.unshift(t);
      const inner: Tok[] = [];
      for (j--; j >= 0 && !isOp(toks[j], '<'); j--) {
        if (toks[j]!.kind === 'comment') done.unshift(toks[j]!);
        else inner.unshift(toks[j]!);
      }
      if (inner.length > 0) done.unshift(addr(inner));
      // The phrase before "<" stays as it is, up to a separator.
      for (; j >= 0 && !isOp(toks[j], '>;,:'); j--) done.unshift(toks[j]!);
      wordOk = true;
      boundary = true;
      continue;
    } else if (isWord(t)) {
      if (!wordOk) close(true);
      run.unshift(t);
      wordOk = false;
    } else if (isOp(t, ',')) {
      close(false);
      done.unshift(t);
      wordOk = true;
    } else {
      if (atBoundary) done.unshift(t);
      else run.unshift(t);
      wordOk = true;
    }
    j--;
  }
  close(false);
  return done;
}

/** The tokens of a rewritten address, as one address node. */
export function tok822ScanAddr(text: string): Tok {
  return addr(tok822Scan(text), true);
}

/** The address nodes of a parsed list, in order (group members included). */
export function tok822Addresses(list: readonly Tok[]): Tok[] {
  return list.filter((t) => t.kind === 'addr');
}

/** Replace the content of an address node (after rewriting). */
export function setAddress(node: Tok, text: string): void {
  const n = node as AddrTok;
  n.children = tok822Scan(text);
  n.rescanned = true;
}

const nonOperator = (t: Tok) => t.kind !== 'op' && t.kind !== 'startgrp';

/** Is a space printed after list[k]? Not inside a parsed address. */
function spaceAfter(list: readonly Tok[], k: number, spaced: boolean): boolean {
  const t = list[k]!;
  const next = list[k + 1];
  if (!spaced || t.owned || next === undefined) return false;
  if (isOp(t, ',') || t.kind === 'startgrp' || isOp(next, '<')) return true;
  return nonOperator(t) && nonOperator(next);
}

/** Unquoted text: quoted strings and escapes lose their quoting. */
export function tok822Internalize(list: readonly Tok[], spaced = true): string {
  let s = '';
  list.forEach((t, k) => {
    if (t.kind === 'addr') s += addressText(t);
    else if (t.kind === 'domlit') s += `[${t.text}]`;
    else s += t.text;
    if (spaceAfter(list, k, spaced)) s += ' ';
  });
  return s;
}

/** The internal form of an address node. */
export function addressText(node: Tok): string {
  const n = node as AddrTok;
  return tok822Internalize(n.children, n.rescanned);
}

/** The external (quoted) form of an address node's content, as rewriting gets it. */
export function addressExternal(node: Tok): string {
  const n = node as AddrTok;
  return tok822Externalize(n.children, 'plain', n.rescanned);
}

const backslashed = (s: string, chars: string) =>
  s.replace(/[\s\S]/g, (c) => (chars.includes(c) ? `\\${c}` : c));

/** Text around one address (phrase, comments) longer than this is cut. */
const MAX_NONADDR_LENGTH = 250;

/**
 * Quoted text. 'head': a newline after each separating comma (for
 * foldHeader) and no more than 250 bytes of phrase and comments around
 * one address - more is replaced by "<address>" with a warning.
 */
export function tok822Externalize(
  list: readonly Tok[],
  mode: 'plain' | 'head' = 'plain',
  spaced = true,
  warn?: (text: string) => void,
): string {
  let s = '';
  let start = 0;
  let lastAddr: Tok | null = null;
  let addrLen = 0;
  const enforce = () => {
    if (mode !== 'head' || lastAddr === null) return;
    if (Buffer.byteLength(s.slice(start)) - addrLen <= MAX_NONADDR_LENGTH) return;
    warn?.(`stripping too many comments from address: ${printable(s.slice(start)).slice(0, 100)}...`);
    const inner = lastAddr.kind === 'addr' ? quote822Local(addressText(lastAddr)) : '';
    s = `${s.slice(0, start)}<${inner}>`;
  };
  list.forEach((t, k) => {
    if (isOp(t, ',')) {
      enforce();
      s += mode === 'head' ? ',\n' : ', ';
      start = s.length;
      lastAddr = null;
      addrLen = 0;
      return;
    }
    if (t.kind === 'addr') {
      const q = quote822Local(addressText(t));
      lastAddr = t;
      addrLen = Buffer.byteLength(q);
      s += q;
    } else if (t.kind === 'qstring') s += `"${backslashed(t.text, '"\\\r\n')}"`;
    else if (t.kind === 'domlit') s += `[${backslashed(t.text, '\\\r\n')}]`;
    else {
      if (isOp(t, '<') && isOp(list[k + 1], '>')) {
        lastAddr = t;
        addrLen = 0;
      }
      s += t.text;
    }
    if (spaceAfter(list, k, spaced)) s += ' ';
  });
  enforce();
  return s;
}

function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '?');
}

/**
 * Fold a header whose address list was printed in 'head' mode: addresses
 * are joined on one line while it stays under 70 bytes (a tab counts
 * as one); continuation lines start with a tab. `text` starts with the
 * header name.
 */
export function foldHeader(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [lines[0]!];
  for (const line of lines.slice(1)) {
    const cur = out[out.length - 1]!;
    if (Buffer.byteLength(cur) + 1 + Buffer.byteLength(line) < 70) out[out.length - 1] = `${cur} ${line}`;
    else out.push(line);
  }
  return out.map((l, k) => (k === 0 || l.startsWith(' ') || l.startsWith('\t') ? l : `\t${l}`)).join('\n');
}

/** Where the local part starts: after a leading source route "@a,@b:". */
function localStart(addr: string): number {
  if (!addr.startsWith('@')) return 0;
  const colon = addr.indexOf(':');
  return colon < 0 ? 0 : colon + 1;
}

/** Is the local part one RFC 822 dot-string (8-bit characters allowed)? */
function isDotString(local: string): boolean {
  if (local === '' || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  for (const c of local) if (c === ' ' || isCntrl(c) || '()<>@,;:\\"[]'.includes(c)) return false;
  return true;
}

/** Internal to external form: quote the local part when it is not a dot-string. */
export function quote822Local(addr: string): string {
  const start = localStart(addr);
  const rest = addr.slice(start);
  const at = rest.lastIndexOf('@');
  const local = at < 0 ? rest : rest.slice(0, at);
  if (isDotString(local)) return addr;
  const quoted = `"${local.replace(/["\\\r]/g, (c) => `\\${c}`)}"`;
  return addr.slice(0, start) + quoted + (at < 0 ? '' : rest.slice(at));
}

/** External to internal form: quotes and escapes go; the domain follows the last unquoted "@". */
export function unquote822Local(addr: string): string {
  const start = localStart(addr);
  let out = addr.slice(0, start);
  let quoted = false;
  let bareAt = -1;
  let bareAtSrc = -1;
  for (let i = start; i < addr.length; i++) {
    let c = addr[i]!;
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (c === '@') {
      if (!quoted) {
        bareAt = out.length;
        bareAtSrc = i;
      }
    } else if (c === '\\') {
      if (i + 1 >= addr.length) continue;
      c = addr[++i]!;
    }
    out += c;
  }
  return bareAt >= 0 ? out.slice(0, bareAt) + addr.slice(bareAtSrc) : out;
}
