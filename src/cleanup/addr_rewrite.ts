/*
 * addr_rewrite - trivial-rewrite's "rewrite" answer as cleanup gets it
 *
 * Cleanup sends trivial-rewrite the external (quoted) text of an address;
 * the answer is that text read as tokens, rewritten and printed again as
 * one quoted address. Rewriting, in the local context ($myorigin,
 * $mydomain) or the remote one ($remote_header_rewrite_domain for both):
 *   - `""` stays `""`; a lone "@" becomes `""`;
 *   - a source route "@a,@b:" goes (not when ":" is the last token);
 *   - without "@": site!user becomes user@site (swap_bangpath), else the
 *     last "%" becomes "@" (allow_percent_hack), else "@origin" is
 *     appended (append_at_myorigin, origin not empty);
 *   - a domain without "." or [literal] gets ".domain" (append_dot_mydomain);
 *   - one trailing "." goes, not after "." or "@".
 * Printing puts a space after a word followed by another word, and
 * after any token followed by "<" (see withOwner for the exception),
 * then quotes the local part where needed - so `a<b` comes back as
 * `"a <b"@origin`, exactly as Postfix's trivial-rewrite answers.
 * (src/trivial-rewrite/rewrite.ts answers the same for ordinary
 * addresses; this one follows the token rules for any text.)
 */
import { quote822Local, type Tok, tok822Internalize, tok822Scan } from '../global/tok822.js';
import type { RewriteParams } from '../trivial-rewrite/rewrite.js';

const op = (t: Tok | undefined, c: string) => t !== undefined && t.kind === 'op' && t.text === c;
function lastOp(list: readonly Tok[], c: string): number {
  for (let i = list.length - 1; i >= 0; i--) if (op(list[i], c)) return i;
  return -1;
}
/*
 * Tokens added at either end take the "owner" of the token they are put
 * next to (none for the scanned text); only into an empty list do they
 * come owned, and owned tokens print without a space after them. So
 * "!a<b" (nothing before the bang) becomes `"a<b"@`, "x!a<b" `"a <b"@x`.
 */
const withOwner = (items: readonly Tok[], owned: boolean): Tok[] => items.map((t) => ({ ...t, owned }));
const ownerOf = (t: Tok | undefined) => (t === undefined ? true : t.owned === true);
const prepend = (list: Tok[], items: readonly Tok[]) => [...withOwner(items, ownerOf(list[0])), ...list];
const append = (list: Tok[], items: readonly Tok[]) => [...list, ...withOwner(items, ownerOf(list.at(-1)))];
const AT: Tok = { kind: 'op', text: '@' };

/** Rewrite external-form text; the answer is external form. The empty address stays empty. */
export function rewriteClnt(p: RewriteParams, context: 'local' | 'remote', text: string): string {
  if (text === '') return '';
  let t = tok822Scan(text);
  if (t.length === 0) return '';
  const origin = context === 'local' ? p.myorigin : p.remoteHeaderRewriteDomain;
  const domain = context === 'local' ? p.mydomain : p.remoteHeaderRewriteDomain;
  if (t.length === 1 && t[0]!.kind === 'qstring' && t[0]!.text === '') return quote822Local('');
  if (t.length === 1 && op(t[0], '@')) return quote822Local('');
  if (op(t[0], '@')) {
    const colon = t.findIndex((x) => op(x, ':'));
    if (colon >= 0 && colon !== t.length - 1) t = t.slice(colon + 1);
  }
  if (lastOp(t, '@') < 0) {
    const bang = t.findIndex((x) => op(x, '!'));
    const pct = lastOp(t, '%');
    if (p.swapBangpath && bang >= 0) {
      t = prepend(prepend(t.slice(0, bang), [AT]), t.slice(bang + 1));
    } else if (p.allowPercentHack && pct >= 0) {
      t = [...t.slice(0, pct), { kind: 'op', text: '@' }, ...t.slice(pct + 1)];
    } else if (p.appendAtMyorigin && origin !== '') {
      t = append(append(t, [AT]), tok822Scan(origin));
    }
  }
  const at = lastOp(t, '@');
  if (
    p.appendDotMydomain &&
    domain !== '' &&
    at >= 0 &&
    at !== t.length - 1 &&
    !t.slice(at).some((x) => x.kind === 'domlit' || op(x, '.'))
  ) {
    t = append(append(t, [{ kind: 'op', text: '.' }]), tok822Scan(domain));
  }
  const n = t.length;
  if (op(t[n - 1], '.') && n > 1 && !op(t[n - 2], '.') && !op(t[n - 2], '@')) t = t.slice(0, -1);
  return quote822Local(tok822Internalize(t));
}
