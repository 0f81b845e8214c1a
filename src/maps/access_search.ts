/*
 * access_search - the orders in which Postfix tries keys, one place for all
 *
 * A lookup of an address, a domain or a client is a sequence of keys tried
 * one after the other; each key is sent to every table of the list before
 * the next key is tried; the first value found wins. A table that cannot
 * answer (retry) stops the search there: a later, less specific key must
 * never decide for a key that could not be checked, so the caller defers.
 *
 * Orders, as documented in Postfix 3.7's manual pages:
 *   accessAddressKeys  access(5) e-mail address: user+ext@domain,
 *                      user@domain, domain and its parents, user+ext@, user@
 *   hostnameKeys       access(5) host name: name and its parents
 *   addressKeys        access(5) IPv4 1.2.3.4, 1.2.3, 1.2, 1; IPv6 by
 *                      cutting ":pair" off the compressed form
 *   clientKeys         check_client_access: host name keys, then address keys
 *   addressMapKeys     virtual(5), canonical(5), generic(5), relocated(5):
 *                      user+ext@domain, user@domain, user+ext, user (only
 *                      for a local domain), @domain
 *   transportKeys      transport(5): user+ext@domain, user@domain, domain,
 *                      its parents, "*"
 * Parent domains are ".parent" keys, or plain "parent" keys when the
 * feature (smtpd_access_maps, transport_maps...) is listed in
 * parent_domain_matches_subdomains.
 *
 * Only the first key of a search is a "full" key. The others are partial
 * and, as in Postfix, are not sent to pattern tables (cidr, regexp, pcre,
 * tcp, socketmap): a regular expression sees the whole address or nothing.
 * Keys are passed as they are; each table folds case as its flags say.
 */
import type { Dict, Lookup } from './dict.js';

/** One key of a search order. */
export interface SearchKey {
  readonly key: string;
  /** Partial keys skip pattern tables. */
  readonly partial: boolean;
  /** Set when the key is an unextended form: the extension that was removed. */
  readonly extension?: string;
}

export type SearchResult =
  | { readonly kind: 'found'; readonly value: string; readonly key: SearchKey; readonly dict: Dict }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'retry'; readonly reason: string; readonly key: SearchKey; readonly dict: Dict };

const PATTERN_TYPES = new Set(['cidr', 'regexp', 'pcre', 'tcp', 'socketmap', 'fail']);

/** Pattern tables get only full keys (Postfix's DICT_FLAG_PATTERN). */
export function isPatternDict(d: Dict): boolean {
  return d.pattern ?? PATTERN_TYPES.has(d.type);
}

/** Try the keys in order, each against every table in order; first found or retry wins. */
export async function searchKeys(maps: readonly Dict[], keys: Iterable<SearchKey>): Promise<SearchResult> {
  for (const key of keys) {
    for (const dict of maps) {
      if (key.partial && isPatternDict(dict)) continue;
      const r: Lookup = await dict.lookup(key.key);
      if (r.kind === 'found') return { kind: 'found', value: r.value, key, dict };
      if (r.kind === 'retry') return { kind: 'retry', reason: r.reason, key, dict };
    }
  }
  return { kind: 'notfound' };
}

/** Is the feature named in a parent_domain_matches_subdomains value? */
export function parentMatchesSubdomains(setting: string | readonly string[], feature: string): boolean {
  const list = typeof setting === 'string' ? setting.split(/[\s,]+/) : setting;
  return list.some((f) => f.toLowerCase() === feature.toLowerCase());
}

export interface AddressParts {
  readonly local: string;
  /** null when the address has no "@". */
  readonly domain: string | null;
  /** The local part without its extension, when there is one. */
  readonly base: string | null;
  /** The extension without the delimiter, when there is one. */
  readonly extension: string | null;
}

export interface ExtensionOptions {
  /** recipient_delimiter: any one of these characters starts an extension. */
  readonly recipientDelimiter?: string;
  /** double_bounce_sender, never split (default "double-bounce"). */
  readonly doubleBounceSender?: string;
}

/**
 * Split user+ext@domain. As Postfix's split_addr: the local part is cut at
 * the first delimiter character; postmaster, MAILER-DAEMON and the double
 * bounce sender are never split, nor (with "-" among the delimiters)
 * owner-foo and foo-request; a delimiter in first position or at the end
 * leaves the address unsplit.
 */
export function splitAddress(addr: string, opts: ExtensionOptions = {}): AddressParts {
  const at = addr.lastIndexOf('@');
  const local = at < 0 ? addr : addr.slice(0, at);
  const domain = at < 0 ? null : addr.slice(at + 1);
  const none = { local, domain, base: null, extension: null };
  const delims = opts.recipientDelimiter ?? '';
  if (delims === '') return none;
  const lower = local.toLowerCase();
  if (lower === 'postmaster' || lower === 'mailer-daemon') return none;
  if (lower === (opts.doubleBounceSender ?? 'double-bounce').toLowerCase()) return none;
  if (
    delims.includes('-') &&
    (lower.startsWith('owner-') || (lower.length > 8 && lower.endsWith('-request')))
  ) {
    return none;
  }
  let cut = -1;
  for (let i = 0; i < local.length; i++) {
    if (delims.includes(local[i]!)) {
      cut = i;
      break;
    }
  }
  if (cut <= 0 || cut === local.length - 1) return none;
  return { local, domain, base: local.slice(0, cut), extension: local.slice(cut + 1) };
}

/**
 * A domain and its parents: "a.b.c", then ".b.c", ".c" - or "b.c", "c"
 * when the feature matches subdomains. The first key is full if asked.
 */
export function domainKeys(domain: string, parentMatches: boolean, firstFull = false): SearchKey[] {
  if (domain === '') return [];
  const keys: SearchKey[] = [{ key: domain, partial: !firstFull }];
  for (let dot = domain.indexOf('.', 1); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
    const parent = domain.slice(parentMatches ? dot + 1 : dot);
    if (parent !== '' && parent !== '.') keys.push({ key: parent, partial: true });
  }
  return keys;
}

export interface AccessOptions extends ExtensionOptions {
  /** The feature is in parent_domain_matches_subdomains (smtpd_access_maps for smtpd). */
  readonly parentMatches: boolean;
}

/** access(5) EMAIL ADDRESS PATTERNS and EMAIL ADDRESS EXTENSION. */
export function accessAddressKeys(addr: string, opts: AccessOptions): SearchKey[] {
  const p = splitAddress(addr, opts);
  const keys: SearchKey[] = [{ key: addr, partial: false }];
  const ext = p.extension === null ? {} : { extension: p.extension };
  if (p.base !== null)
    keys.push({ key: p.domain === null ? p.base : `${p.base}@${p.domain}`, partial: true, ...ext });
  if (p.domain !== null) {
    keys.push(...domainKeys(p.domain, opts.parentMatches));
    keys.push({ key: `${p.local}@`, partial: true });
    if (p.base !== null) keys.push({ key: `${p.base}@`, partial: true, ...ext });
  }
  return keys;
}

/** access(5) host name patterns: the name (a full key), then its parent domains. */
export function hostnameKeys(name: string, parentMatches: boolean): SearchKey[] {
  return domainKeys(name, parentMatches, true);
}

/**
 * access(5) address patterns: the address (full key), then shorter and
 * shorter prefixes, cut at the last "." (IPv4) or ":" (IPv6).
 */
export function addressKeys(addr: string): SearchKey[] {
  const delim = addr.includes(':') ? ':' : '.';
  const keys: SearchKey[] = [];
  for (let a = addr; a !== ''; ) {
    keys.push({ key: a, partial: keys.length > 0 });
    const cut = a.lastIndexOf(delim);
    if (cut < 0) break;
    a = a.slice(0, cut);
  }
  return keys;
}

/** check_client_access: host name and parents, then the address and its prefixes. */
export function clientKeys(name: string, addr: string, parentMatches: boolean): SearchKey[] {
  return [...hostnameKeys(name, parentMatches), ...addressKeys(addr)];
}

export interface AddressMapOptions extends ExtensionOptions {
  /** Is the domain local ($myorigin, $mydestination, $inet_interfaces, $proxy_interfaces)? */
  readonly isLocal?: (domain: string) => boolean;
}

/** virtual(5), canonical(5), generic(5), relocated(5) TABLE SEARCH ORDER. */
export function addressMapKeys(addr: string, opts: AddressMapOptions = {}): SearchKey[] {
  const p = splitAddress(addr, opts);
  const ext = p.extension === null ? {} : { extension: p.extension };
  const keys: SearchKey[] = [{ key: addr, partial: false }];
  if (p.domain === null) {
    if (p.base !== null) keys.push({ key: p.base, partial: true, ...ext });
    return keys;
  }
  if (p.base !== null) keys.push({ key: `${p.base}@${p.domain}`, partial: true, ...ext });
  if (opts.isLocal?.(p.domain)) {
    keys.push({ key: p.local, partial: true });
    if (p.base !== null) keys.push({ key: p.base, partial: true, ...ext });
  }
  keys.push({ key: `@${p.domain}`, partial: true });
  return keys;
}

/** transport(5) TABLE SEARCH ORDER; parentMatches for the feature transport_maps. */
export function transportKeys(addr: string, opts: AccessOptions): SearchKey[] {
  const p = splitAddress(addr, opts);
  const ext = p.extension === null ? {} : { extension: p.extension };
  const keys: SearchKey[] = [{ key: addr, partial: false }];
  if (p.base !== null && p.domain !== null)
    keys.push({ key: `${p.base}@${p.domain}`, partial: true, ...ext });
  if (p.domain !== null) keys.push(...domainKeys(p.domain, opts.parentMatches));
  keys.push({ key: '*', partial: true });
  return keys;
}

/** check_{sender,recipient,...}_access on an e-mail address. */
export const accessAddressLookup = (maps: readonly Dict[], addr: string, opts: AccessOptions) =>
  searchKeys(maps, accessAddressKeys(addr, opts));

/** check_client_access / check_helo_access style host lookups. */
export const clientLookup = (maps: readonly Dict[], name: string, addr: string, parentMatches: boolean) =>
  searchKeys(maps, clientKeys(name, addr, parentMatches));

/** virtual_alias_maps, canonical_maps, generic maps, relocated_maps. */
export const addressMapLookup = (maps: readonly Dict[], addr: string, opts: AddressMapOptions = {}) =>
  searchKeys(maps, addressMapKeys(addr, opts));

/** transport_maps. */
export const transportLookup = (maps: readonly Dict[], addr: string, opts: AccessOptions) =>
  searchKeys(maps, transportKeys(addr, opts));
