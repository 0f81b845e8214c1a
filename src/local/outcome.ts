/*
 * outcome - what became of each delivery made for one recipient, and how
 * it is recorded: in order, the recipient done only when nothing was
 * deferred; local_delivery_status_filter may rewrite code and text first.
 */

import type { DeliveryJob } from '../global/deliver_agent.js';
import type { DeliverRecipient, RecipientOutcome } from '../global/deliver_request.js';
import { msg } from '../global/msg.js';

/** One delivery made for a recipient (or the hand-off to another transport). */
export interface Sub {
  readonly rcpt: DeliverRecipient;
  readonly kind: 'sent' | 'bounce' | 'defer' | 'passed';
  readonly status: string;
  readonly reason: string;
  readonly outcome?: RecipientOutcome;
}

/**
 * local_delivery_status_filter: the table may replace "X.Y.Z text" with
 * another code and text; a success stays a success and a failure a
 * failure (4.X.X and 5.X.X may swap, which turns a defer into a bounce).
 */
export async function filterStatus(
  subs: readonly Sub[],
  lookup: (key: string) => Promise<string | null | 'retry'>,
): Promise<Sub[]> {
  const out: Sub[] = [];
  for (const sub of subs) {
    if (sub.kind === 'passed') {
      out.push(sub);
      continue;
    }
    const key = `${sub.status} ${sub.reason}`;
    const v = await lookup(key);
    const m = typeof v === 'string' ? /^([245])\.(\d{1,3})\.(\d{1,3})(?: (.*))?$/su.exec(v) : null;
    if (typeof v === 'string' && m === null)
      msg.warn(`local_delivery_status_filter: bad status code in filter result "${v}" for "${key}"`);
    if (m === null || (m[1] === '2') !== (sub.kind === 'sent')) {
      out.push(sub);
      continue;
    }
    const status = `${m[1]}.${m[2]}.${m[3]}`;
    const kind = sub.kind === 'sent' ? 'sent' : status.startsWith('4') ? 'defer' : 'bounce';
    out.push({ ...sub, kind, status, reason: m[4] ?? '' });
  }
  return out;
}

/**
 * Record a recipient's deliveries in the order they happened; done only
 * when none was deferred. An address probe (`probe`) is always done: a
 * deferral is only an "undeliverable" verdict there.
 */
export async function flush(
  job: DeliveryJob,
  top: DeliverRecipient,
  subs: readonly Sub[],
  relay: string,
  probe = false,
): Promise<void> {
  const keep = !probe && subs.some((s) => s.kind === 'defer');
  const d = (s: Sub) => ({ status: s.status, relay, reason: s.reason });
  for (const s of subs) {
    if (s.kind === 'passed' && s.outcome) job.passed(top, s.outcome);
    else if (s.kind === 'sent') await job.status.sent(s.rcpt, d(s), { keep });
    else if (s.kind === 'bounce') await job.status.bounce(s.rcpt, d(s), { keep });
    else if (s.kind === 'defer') await job.status.defer(s.rcpt, d(s));
  }
  if (subs.length === 0)
    await job.status.sent(top, { status: '2.0.0', relay, reason: 'delivered to mailbox' });
  // What qmgr hears is the recipient's state as a whole.
  const worst = keep
    ? 'deferred'
    : subs.some((s) => s.kind === 'bounce' || s.outcome === 'bounced' || (probe && s.kind === 'defer'))
      ? 'bounced'
      : undefined;
  if (worst !== undefined && job.outcome(top) !== worst) job.passed(top, worst);
}
