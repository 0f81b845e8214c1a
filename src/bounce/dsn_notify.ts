/*
 * dsn_notify - who besides the sender gets a copy of a notice
 *
 * notify_classes names the postmaster notifications a site wants; the
 * *_notice_recipient parameters say where each goes:
 *   "bounce"  a copy of every non-delivery notice -> bounce_notice_recipient
 *   "2bounce" a notice that could not itself be delivered (or a failure
 *             with the null sender) -> 2bounce_notice_recipient; "bounce"
 *             implies "2bounce", as in Postfix
 *   "delay"   a copy of every delay notice -> delay_notice_recipient
 * Postmaster copies carry the template's Postmaster-Subject and return
 * headers only (see dsn_notice.ts). Other classes (resource, software,
 * policy, protocol, data) concern SMTP sessions and are not decided here.
 */
import type { MainConfig } from '../global/config.js';

export type CopyKind = 'failure' | 'double-bounce' | 'delay';

const CLASS: Readonly<Record<CopyKind, readonly [string, string]>> = {
  failure: ['bounce', 'bounce_notice_recipient'],
  'double-bounce': ['2bounce', '2bounce_notice_recipient'],
  delay: ['delay', 'delay_notice_recipient'],
};

/** The postmaster copy's recipient, or undefined when notify_classes does not ask for one. */
export function postmasterCopyTo(cfg: MainConfig, kind: CopyKind): string | undefined {
  const [cls, param] = CLASS[kind];
  const classes = cfg.list('notify_classes').map((c) => c.toLowerCase());
  const asked = classes.includes(cls) || (kind === 'double-bounce' && classes.includes('bounce'));
  return asked ? cfg.get(param) : undefined;
}
