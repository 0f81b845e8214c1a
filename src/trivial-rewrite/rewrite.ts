/*
 * rewrite - trivial-rewrite's "rewrite context address" request
 *
 * Brings an address to standard user@domain form in one of two contexts:
 *   local   incomplete addresses get "@$myorigin" (append_at_myorigin) and
 *           a domain without a dot gets ".$mydomain" (append_dot_mydomain);
 *   remote  the same, with $remote_header_rewrite_domain for both, and
 *           nothing appended when that is empty.
 * In both contexts, in this order: a lone "@" becomes the empty address;
 * a source route (@a,@b:user@domain) is stripped; an address without "@"
 * has its bang path swapped (site!user becomes user@site, swap_bangpath)
 * or else its last "%" made an "@" (allow_percent_hack); finally one
 * trailing dot of the domain is removed (not "..", not "@.").
 * The empty address stays empty. Operators inside quotes are text.
 *
 * rewriteExternal works on RFC 5322 (quoted) text; rewriteInternal takes
 * and returns Postfix's internal (unquoted) form, as cleanup uses it.
 */
import {
  firstOperator,
  internalize,
  lastOperator,
  quote822Local,
  stripSourceRoute,
} from '../global/address.js';
import type { MainConfig } from '../global/config.js';

export type RewriteContext = 'local' | 'remote';

export interface RewriteParams {
  readonly appendAtMyorigin: boolean;
  readonly appendDotMydomain: boolean;
  readonly swapBangpath: boolean;
  readonly allowPercentHack: boolean;
  readonly myorigin: string;
  readonly mydomain: string;
  readonly remoteHeaderRewriteDomain: string;
}

/** The rewriting parameters of a main.cf. */
export function rewriteParams(cfg: MainConfig): RewriteParams {
  return {
    appendAtMyorigin: cfg.bool('append_at_myorigin'),
    appendDotMydomain: cfg.bool('append_dot_mydomain'),
    swapBangpath: cfg.bool('swap_bangpath'),
    allowPercentHack: cfg.bool('allow_percent_hack'),
    myorigin: cfg.get('myorigin'),
    mydomain: cfg.get('mydomain'),
    remoteHeaderRewriteDomain: cfg.get('remote_header_rewrite_domain'),
  };
}

/** Rewrite RFC 5322 (external form) text to standard form. */
export function rewriteExternal(p: RewriteParams, context: RewriteContext, addr: string): string {
  if (addr === '' || addr === '@') return '';
  let a = stripSourceRoute(addr);
  if (lastOperator(a, '@') < 0) a = routeOperator(p, a);
  const origin = context === 'local' ? p.myorigin : p.remoteHeaderRewriteDomain;
  const domain = context === 'local' ? p.mydomain : p.remoteHeaderRewriteDomain;
  let at = lastOperator(a, '@');
  if (at < 0 && p.appendAtMyorigin && origin !== '') {
    a = `${a}@${origin}`;
    at = lastOperator(a, '@');
  }
  if (at >= 0 && p.appendDotMydomain && domain !== '') {
    const dom = a.slice(at + 1);
    if (dom !== '' && !dom.includes('.') && !dom.startsWith('[')) a = `${a}.${domain}`;
  }
  return stripTrailingDot(a);
}

/**
 * The service's answer to a rewrite request: external form in, external
 * form out, re-quoted as Postfix prints an address (`""` for an empty
 * local part, quotes only where needed). The null address stays null.
 */
export function rewriteRequest(p: RewriteParams, context: RewriteContext, addr: string): string {
  if (addr === '') return '';
  return quote822Local(internalize(rewriteExternal(p, context, addr)));
}

/** Rewrite an internal-form address (quotes added for parsing, removed again). */
export function rewriteInternal(p: RewriteParams, context: RewriteContext, addr: string): string {
  if (addr === '') return '';
  return internalize(rewriteExternal(p, context, quote822Local(addr)));
}

/** site!user to user@site, else user%site to user@site, for an address without "@". */
export function routeOperator(p: { swapBangpath: boolean; allowPercentHack: boolean }, a: string): string {
  const bang = firstOperator(a, '!');
  if (p.swapBangpath && bang >= 0) return `${a.slice(bang + 1)}@${a.slice(0, bang)}`;
  const pct = lastOperator(a, '%');
  if (p.allowPercentHack && pct >= 0) return `${a.slice(0, pct)}@${a.slice(pct + 1)}`;
  return a;
}

/** "user@domain." to "user@domain"; "a..", "user@." and a bare "." stay. */
export function stripTrailingDot(a: string): string {
  if (a.length < 2 || !a.endsWith('.')) return a;
  const prev = a[a.length - 2];
  return prev === '.' || prev === '@' ? a : a.slice(0, -1);
}
