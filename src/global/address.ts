/*
 * address - RFC 5321/5322 mail addresses in Postfix's two forms
 *
 * Postfix keeps addresses in "internal" form (the local part unquoted, as
 * the envelope means it) and converts to "external" form (the local part
 * quoted per RFC 5322 when it needs to be) only where the text is parsed
 * or sent. The domain is always what follows the LAST "@" of the internal
 * form, so `a@b@c` is local part "a@b" at domain "c" and quotes back to
 * `"a@b"@c`. Source routes (`@a,@b:user@domain`) are recognised only in
 * external form, where the route is outside any quotes.
 *
 * Guarantees: quote822Local(unquote822Local(x)) keeps the meaning of x;
 * the scanners never throw and treat a backslash-escaped or quoted
 * character as ordinary text, never as an operator.
 */

/** RFC 5322 specials (and space, DEL, controls): a local part with one of these must be quoted. */
const NEEDS_QUOTE = /[()<>@,;:\\".[\]\s\x00-\x1f\x7f]/;

/** Does this local part (internal form) need quotes to be one RFC 5322 dot-atom? */
export function localNeedsQuote(local: string): boolean {
  // An empty local part is written "" (as in ""@domain).
  if (local === '') return true;
  // A dot-atom: dots only between atoms, never first, last or doubled.
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return true;
  return NEEDS_QUOTE.test(local.replaceAll('.', ''));
}

/** Split an internal-form address at its last "@": domain null when there is none. */
export function splitInternal(addr: string): { local: string; domain: string | null } {
  const at = addr.lastIndexOf('@');
  return at < 0 ? { local: addr, domain: null } : { local: addr.slice(0, at), domain: addr.slice(at + 1) };
}

/**
 * Internal to external form, as Postfix's quote_822_local: quote the local
 * part when needed, escaping `"` and `\`; the domain is left as it is.
 */
export function quote822Local(addr: string): string {
  // A bare source route (@a,@b:) has an empty address after it.
  if (addr.startsWith('@') && addr.endsWith(':') && firstOperator(addr, ':') === addr.length - 1)
    return `${addr}""`;
  const { local, domain } = splitInternal(addr);
  if (!localNeedsQuote(local)) return addr;
  const quoted = `"${local.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return domain === null ? quoted : `${quoted}@${domain}`;
}

/**
 * External to internal form, as Postfix's unquote_822_local: drop the
 * quotes and backslash escapes of the local part; the domain is kept.
 */
export function unquote822Local(addr: string): string {
  const at = lastOperator(addr, '@');
  const local = at < 0 ? addr : addr.slice(0, at);
  const rest = at < 0 ? '' : addr.slice(at);
  let out = '';
  let quoted = false;
  for (let i = 0; i < local.length; i++) {
    const c = local[i]!;
    if (c === '\\' && i + 1 < local.length) out += local[++i];
    else if (c === '"') quoted = !quoted;
    else out += c;
  }
  return out + rest;
}

/**
 * Positions of characters that act as operators in external-form text:
 * not inside "quotes", not escaped by a backslash, not inside a [domain
 * literal] (whose dots and colons are part of an address).
 */
export function operatorPositions(text: string, op: string): number[] {
  const out: number[] = [];
  let quoted = false;
  let literal = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
      continue;
    }
    if (literal) {
      if (c === ']') literal = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '[') literal = true;
    else if (c === op) out.push(i);
  }
  return out;
}

/** The last operator `op` outside quotes and literals, or -1. */
export function lastOperator(text: string, op: string): number {
  return operatorPositions(text, op).at(-1) ?? -1;
}

/** The first operator `op` outside quotes and literals, or -1. */
export function firstOperator(text: string, op: string): number {
  return operatorPositions(text, op)[0] ?? -1;
}

/**
 * Remove an RFC 5321 source route from external-form text:
 * `@hop1,@hop2:user@domain` becomes `user@domain`. Text without a route,
 * or whose colon is the last character, is returned unchanged.
 */
export function stripSourceRoute(text: string): string {
  if (!text.startsWith('@')) return text;
  const colon = firstOperator(text, ':');
  if (colon < 0 || colon === text.length - 1) return text;
  return text.slice(colon + 1);
}

/** An IPv4 address in dotted-quad form, each part 0-255, no leading zeros needed. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address (with an optional trailing IPv4 part), as Postfix's valid_ipv6_hostaddr. */
export function isIPv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return false;
  let body = text;
  let groupsFromV4 = 0;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    body = `${text.slice(0, lastColon + 1)}0`;
    groupsFromV4 = 1;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = all.length + groupsFromV4;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * The address inside a domain literal: `[1.2.3.4]` gives "1.2.3.4",
 * `[ipv6:::1]` gives "::1"; null when the text is not a valid literal.
 */
export function domainLiteralAddress(domain: string): string | null {
  if (!domain.startsWith('[') || !domain.endsWith(']')) return null;
  const inner = domain.slice(1, -1);
  if (/^ipv6:/i.test(inner)) return isIPv6(inner.slice(5)) ? inner.slice(5).toLowerCase() : null;
  return isIPv4(inner) ? inner : null;
}

/**
 * A host name Postfix accepts (valid_hostname): labels of letters, digits,
 * "-" and "_", not starting or ending with "-", at most 63 characters a
 * label and 255 in all, and not all-numeric (that would be an address).
 */
export function isValidHostname(name: string): boolean {
  if (name === '' || name.length > 255) return false;
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '' || label.length > 63) return false;
    if (!/^[A-Za-z0-9_-]+$/.test(label)) return false;
    if (label.startsWith('-') || label.endsWith('-')) return false;
  }
  return !/^[\d.]+$/.test(name);
}

type TokenKind = 'word' | 'comma' | 'special';

/**
 * RFC 5322 text to internal form, as Postfix's tokenizer prints it:
 * quotes and backslash escapes go, whitespace between tokens goes, and
 * then one space separates two adjacent words (atoms, quoted strings,
 * [literals], (comments)) and follows every comma. An unterminated
 * quoted string, literal or comment ends at the end of the text.
 * keepQuotes: only the spacing is redone, quotes and escapes stay.
 */
export function internalize(text: string, keepQuotes = false): string {
  const out: string[] = [];
  let prev: TokenKind | null = null;
  const emit = (kind: TokenKind, s: string) => {
    if (kind === 'word' && prev === 'word') out.push(' ');
    out.push(s);
    if (kind === 'comma') out.push(' ');
    prev = kind;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let s = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) s += keepQuotes ? text[i]! + text[++i]! : text[++i];
        else s += text[i];
      }
      i++;
      emit('word', keepQuotes ? `"${s}"` : s);
    } else if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      let s = c;
      for (i++; i < text.length && text[i] !== close; i++)
        s += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
      i++;
      emit('word', s + close);
    } else if (c === ',') {
      i++;
      emit('comma', ',');
    } else if ('<>@;:.!%])'.includes(c)) {
      i++;
      emit('special', c);
    } else {
      let s = '';
      for (; i < text.length && !/[\s"[(),<>@;:.!%\]]/.test(text[i]!); i++) {
        if (text[i] === '\\' && !keepQuotes) {
          if (i + 1 < text.length) s += text[++i];
        } else s += text[i];
      }
      emit('word', s);
    }
  }
  return out.join('').replace(/ $/, '');
}
