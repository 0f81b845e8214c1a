/*
 * addr_masq - address masquerading (masquerade_domains), as cleanup does
 *
 * user@host.sub.example.com becomes user@example.com when "example.com"
 * is in $masquerade_domains: the first listed domain that is a parent of
 * the address's domain wins, so list longer domains first. A domain equal
 * to a listed one is left alone; "!name" lists a domain that must not be
 * masqueraded (its subdomains then stop the search too). Local parts in
 * $masquerade_exceptions (a string list: names, /file, type:table;
 * compared in lower case, extension included) are never masqueraded.
 * Works on external (quoted) form; comparisons ignore case.
 */
import type { ListAnswer } from '../trivial-rewrite/domain_list.js';

export interface Masquerade {
  readonly domains: readonly string[];
  /** null when masquerade_exceptions is empty. */
  readonly exceptions: { match(name: string): Promise<ListAnswer> } | null;
}

export type MasqResult = { readonly addr: string; readonly changed: boolean; readonly retry: boolean };

export async function masquerade(m: Masquerade, addr: string): Promise<MasqResult> {
  const at = addr.lastIndexOf('@');
  if (at < 0) return { addr, changed: false, retry: false };
  let retry = false;
  if (m.exceptions !== null) {
    const hit = await m.exceptions.match(addr.slice(0, at).toLowerCase());
    // Postfix goes on masquerading after a failed lookup; the message is deferred anyway.
    retry = hit === 'retry';
    if (hit === 'match') return { addr, changed: false, retry };
  }
  const domain = addr.slice(at + 1).toLowerCase();
  for (const entry of m.domains) {
    const bang = /^!*/.exec(entry)![0].length;
    const truncate = bang % 2 === 0;
    const masq = entry.slice(bang);
    if (masq === '') continue;
    const lower = masq.toLowerCase();
    if (lower.length === domain.length) {
      if (lower === domain) break;
    } else if (lower.length < domain.length && domain.endsWith(`.${lower}`)) {
      if (truncate) return { addr: `${addr.slice(0, at + 1)}${masq}`, changed: true, retry };
      break;
    }
  }
  return { addr, changed: false, retry };
}
