/*
 * deliver_request - what qmgr asks a delivery agent to do, and its answer
 *
 * One request is one message, one transport:nexthop and one or more of its
 * recipients (as many as <transport>_destination_recipient_limit allows).
 * It travels as one rpc line (src/global/rpc.ts) on private/<transport>.
 * The agent opens the queue file itself; `offset` names each recipient's
 * record there, so the agent can mark it done (docs/daemons.md).
 *
 * parseDeliverRequest() checks a request from the wire field by field:
 * an agent must never act on a half-understood request.
 */

import type { MsgStats } from './log_format.js';
import { isQueueId } from './queue_id.js';

export interface DeliverRecipient {
  /** The address to deliver to (after rewriting and alias expansion in cleanup). */
  readonly address: string;
  /** The address before rewriting (orig_to= in logs), when it differs. */
  readonly orig?: string;
  readonly dsn_orcpt?: string;
  /** DSN NOTIFY bits (src/global/dsn.ts), 0 when not given. */
  readonly dsn_notify?: number;
  /** Offset of its R record in the queue file. */
  readonly offset: number;
}

/** DEL_REQ_FLAG_*: how the message is to be treated. */
export const DEL_REQ_FLAG = Object.freeze({
  /** Address verification (sendmail -bv, verify service): do not deliver, only report. */
  VERIFY: 1 << 0,
  /** Record every delivery in the trace log (sendmail -v). */
  RECORD: 1 << 1,
});

export interface DeliverRequest {
  readonly queue_name: string;
  readonly queue_id: string;
  /** master.cf service name the request was sent to ("local", "relay"...). */
  readonly transport: string;
  readonly nexthop: string;
  readonly sender: string;
  /** Content bytes (the message size logged as size=). */
  readonly size: number;
  readonly arrival: { readonly sec: number; readonly usec: number };
  readonly dsn_envid?: string;
  readonly dsn_ret?: number;
  /** The queue file's attributes (client_name, rewrite_context, encoding, ...). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly recipients: readonly DeliverRecipient[];
  /** Microseconds since the epoch, for delays=a/b/c/d. */
  readonly stats: { readonly incoming: number; readonly active: number };
  readonly flags?: number;
}

export type RecipientOutcome = 'sent' | 'bounced' | 'deferred';

export interface DeliverReply {
  /**
   * 0: every recipient got an outcome. 1: the agent could not work on the
   * request at all (queue file unreadable, configuration error): qmgr
   * defers the recipients that have no outcome.
   */
  readonly status: 0 | 1;
  readonly results: readonly { readonly offset: number; readonly outcome: RecipientOutcome }[];
  /** With status 1: why, as "4.3.0 text". */
  readonly reason?: string;
  /**
   * The destination itself failed (no server answered, all MX down), not
   * just these recipients: qmgr slows down deliveries to this nexthop and,
   * after $<transport>_destination_concurrency_failed_cohort_limit failed
   * cohorts, suspends it for $minimal_backoff_time ("delivery temporarily
   * suspended: <reason>"). For smtp/lmtp; local agents leave it out.
   */
  readonly destination?: { readonly status: string; readonly reason: string };
}

/** The MsgStats an agent logs with: the request's times, handed off now. */
export function requestStats(req: DeliverRequest, handoff: number): MsgStats {
  return { incomingArrival: req.stats.incoming, activeArrival: req.stats.active, agentHandoff: handoff };
}

const str = (v: unknown): v is string => typeof v === 'string';
const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Check a request from the wire; a string says what is wrong with it. */
export function parseDeliverRequest(m: Record<string, unknown>): DeliverRequest | string {
  if (!str(m.queue_name) || !/^[a-z]+$/.test(m.queue_name)) return 'bad queue_name';
  if (!str(m.queue_id) || !isQueueId(m.queue_id)) return 'bad queue_id';
  if (!str(m.transport) || !str(m.nexthop) || !str(m.sender)) return 'bad transport, nexthop or sender';
  if (!int(m.size)) return 'bad size';
  const a = m.arrival as { sec?: unknown; usec?: unknown } | undefined;
  if (typeof a !== 'object' || a === null || !int(a.sec) || !int(a.usec)) return 'bad arrival';
  if (m.dsn_envid !== undefined && !str(m.dsn_envid)) return 'bad dsn_envid';
  if (m.dsn_ret !== undefined && !int(m.dsn_ret)) return 'bad dsn_ret';
  if (m.flags !== undefined && !int(m.flags)) return 'bad flags';
  const attrs = m.attributes;
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return 'bad attributes';
  const attributes: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(attrs)) {
    if (!str(v)) return `bad attribute ${k}`;
    attributes[k] = v;
  }
  const s = m.stats as { incoming?: unknown; active?: unknown } | undefined;
  if (typeof s !== 'object' || s === null || !int(s.incoming) || !int(s.active)) return 'bad stats';
  if (!Array.isArray(m.recipients) || m.recipients.length === 0) return 'no recipients';
  const recipients: DeliverRecipient[] = [];
  for (const r of m.recipients as Record<string, unknown>[]) {
    if (typeof r !== 'object' || r === null || !str(r.address) || !int(r.offset)) return 'bad recipient';
    if (r.orig !== undefined && !str(r.orig)) return 'bad recipient orig';
    if (r.dsn_orcpt !== undefined && !str(r.dsn_orcpt)) return 'bad recipient dsn_orcpt';
    if (r.dsn_notify !== undefined && !int(r.dsn_notify)) return 'bad recipient dsn_notify';
    recipients.push({
      address: r.address,
      offset: r.offset,
      ...(r.orig === undefined ? {} : { orig: r.orig as string }),
      ...(r.dsn_orcpt === undefined ? {} : { dsn_orcpt: r.dsn_orcpt as string }),
      ...(r.dsn_notify === undefined ? {} : { dsn_notify: r.dsn_notify as number }),
    });
  }
  return {
    queue_name: m.queue_name,
    queue_id: m.queue_id,
    transport: m.transport,
    nexthop: m.nexthop,
    sender: m.sender,
    size: m.size,
    arrival: { sec: a.sec as number, usec: a.usec as number },
    ...(m.dsn_envid === undefined ? {} : { dsn_envid: m.dsn_envid as string }),
    ...(m.dsn_ret === undefined ? {} : { dsn_ret: m.dsn_ret as number }),
    ...(m.flags === undefined ? {} : { flags: m.flags as number }),
    attributes,
    recipients,
    stats: { incoming: s.incoming as number, active: s.active as number },
  };
}
