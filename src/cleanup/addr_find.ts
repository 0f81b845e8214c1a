/*
 * addr_find - address lookups as cleanup does them (Postfix's
 * mail_addr_find, mail_addr_map and mail_addr_crunch)
 *
 * findAddress() tries, in this order, each key against every table before
 * the next key (canonical(5), virtual(5) TABLE SEARCH ORDER):
 *   user+ext@domain, user@domain,
 *   user+ext, user        only when domain is $myorigin or local
 *                         ($mydestination, $inet_interfaces, $proxy_interfaces),
 *   @domain.
 * Keys with a local part are asked in quoted (external) form. Only the
 * first key goes to pattern tables (regexp, pcre...). The extension is
 * reported when a key without it matched. A table that cannot answer
 * stops the search: retry, never a less specific answer.
 *
 * mapAddress() turns a found value into addresses: "@other" keeps the
 * local part; the value is parsed as an address list, each address
 * rewritten in the local context (user -> user@$myorigin), and the
 * unmatched extension appended when propagation is on. A value with no
 * address in it is a retry, with Postfix's warning.
 */
import { msg } from '../global/msg.js';
import {
  addressExternal,
  quote822Local,
  tok822Addresses,
  tok822Parse,
  unquote822Local,
} from '../global/tok822.js';
import { isPatternDict } from '../maps/access_search.js';
import type { Dict } from '../maps/dict.js';

/** A maps parameter: its title (parameter name) and tables (null: one could not be opened). */
export interface AddrTables {
  readonly title: string;
  readonly dicts: readonly Dict[] | null;
}

export interface FindContext {
  readonly recipientDelimiter: string;
  readonly myorigin: string;
  readonly doubleBounceSender: string;
  readonly ownerRequestSpecial: boolean;
  /** Is the domain local (mydestination, interfaces)? */
  isLocal(domain: string): Promise<boolean | 'retry'>;
  /** trivial-rewrite in the local context, external form in and out. */
  rewriteLocal(external: string): string;
}

export type Found =
  | { readonly kind: 'found'; readonly value: string; readonly extension: string | null }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'retry' };

/** How a key with a local part is asked: quoted only, or quoted then unquoted (bcc maps). */
export type QueryForm = 'external' | 'external-first';

/** user+ext@domain -> user@domain and "+ext", as Postfix's strip_addr (null: nothing to strip). */
export function stripExtension(addr: string, ctx: FindContext): { bare: string; extension: string } | null {
  const delims = ctx.recipientDelimiter;
  if (delims === '' || ![...addr].some((c) => delims.includes(c))) return null;
  const at = addr.lastIndexOf('@');
  const local = at < 0 ? addr : addr.slice(0, at);
  const lower = local.toLowerCase();
  if (lower === 'postmaster' || lower === 'mailer-daemon' || lower === ctx.doubleBounceSender.toLowerCase())
    return null;
  if (delims.includes('-') && ctx.ownerRequestSpecial) {
    if (lower.startsWith('owner-')) return null;
    if (lower.length > 8 && lower.endsWith('-request')) return null;
  }
  let cut = -1;
  for (let i = 0; i < local.length; i++) {
    if (delims.includes(local[i]!)) {
      cut = i;
      break;
    }
  }
  if (cut <= 0) return null;
  return { bare: local.slice(0, cut) + (at < 0 ? '' : addr.slice(at)), extension: local.slice(cut) };
}

/** Search the tables for an internal-form address. */
export async function findAddress(
  tables: AddrTables,
  addr: string,
  ctx: FindContext,
  form: QueryForm = 'external',
): Promise<Found> {
  const dicts = tables.dicts;
  if (dicts === null) return { kind: 'retry' };
  if (dicts.length === 0) return { kind: 'notfound' };
  const ask = async (key: string, partial: boolean, withDomain: boolean): Promise<Found> => {
    const ext = withDomain ? quote822Local(key) : quoteBare(key);
    let r = await lookup(dicts, ext, partial);
    if (r.kind === 'notfound' && form === 'external-first' && ext !== key)
      r = await lookup(dicts, key, partial);
    return r;
  };
  const strip = stripExtension(addr, ctx);
  let r = await ask(addr, false, true);
  if (r.kind !== 'notfound') return r;
  if (strip !== null) {
    r = await ask(strip.bare, true, true);
    if (r.kind === 'found') return { ...r, extension: strip.extension };
    if (r.kind === 'retry') return r;
  }
  const at = addr.lastIndexOf('@');
  if (at < 0) return r;
  const domain = addr.slice(at + 1);
  const local = domain.toLowerCase() === ctx.myorigin.toLowerCase() ? true : await ctx.isLocal(domain);
  if (local === 'retry') return { kind: 'retry' };
  if (local) {
    r = await ask(addr.slice(0, at), true, false);
    if (r.kind !== 'notfound') return r;
    if (strip !== null) {
      r = await ask(strip.bare.slice(0, strip.bare.lastIndexOf('@')), true, false);
      if (r.kind === 'found') return { ...r, extension: strip.extension };
      if (r.kind === 'retry') return r;
    }
  }
  return lookup(dicts, addr.slice(at), true);
}

async function lookup(dicts: readonly Dict[], key: string, partial: boolean): Promise<Found> {
  for (const d of dicts) {
    if (partial && isPatternDict(d)) continue;
    const r = await d.lookup(key);
    if (r.kind === 'found') return { kind: 'found', value: r.value, extension: null };
    if (r.kind === 'retry') {
      msg.warn(`${d.type}:${d.name} lookup error for "${key}"`);
      return { kind: 'retry' };
    }
  }
  return { kind: 'notfound' };
}

/** A bare local part in quoted form ("@" inside is text). */
function quoteBare(local: string): string {
  const q = quote822Local(`${local}@x`);
  return q.slice(0, -2);
}

export type Mapped =
  | { readonly kind: 'mapped'; readonly addrs: string[] }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'retry' };

/**
 * Look up an internal-form address and return what it maps to, in
 * internal form. propagate: append an unmatched extension to each result.
 */
export async function mapAddress(
  tables: AddrTables,
  addr: string,
  ctx: FindContext,
  propagate: boolean,
): Promise<Mapped> {
  const r = await findAddress(tables, addr, ctx);
  if (r.kind !== 'found') return r;
  let value = r.value;
  if (value.startsWith('@')) {
    // user@domain -> user@other: the local part stays, without a stripped extension.
    const at = addr.lastIndexOf('@');
    let local = at < 0 ? addr : addr.slice(0, at);
    if (r.extension !== null) local = local.slice(0, local.length - r.extension.length);
    value = quote822Local(local + value);
  }
  const addrs = crunch(value, propagate ? r.extension : null, ctx);
  if (addrs.length === 0) {
    msg.warn(`${tables.title} lookup of ${addr} returns non-address result "${value}"`);
    return { kind: 'retry' };
  }
  return { kind: 'mapped', addrs };
}

/** A table value as a list of internal-form addresses (Postfix's mail_addr_crunch). */
export function crunch(value: string, extension: string | null, ctx: FindContext): string[] {
  const text = value === '' || value === '<>' ? '""' : value;
  return tok822Addresses(tok822Parse(text)).map((node) => {
    const ext = addressExternal(node);
    let internal = unquote822Local(ctx.rewriteLocal(ext));
    if (extension !== null) {
      const at = internal.lastIndexOf('@');
      internal = at < 0 ? internal + extension : internal.slice(0, at) + extension + internal.slice(at);
    }
    return internal;
  });
}
