/*
 * route - where a recipient goes, and the request that takes it there
 *
 * Pure helpers of the queue manager: the content-filter override of
 * resolution, the double-bounce test, the destination queue name and the
 * DeliverRequest for one entry. Postfix's rules, noted at each function.
 */

import type { MainConfig } from '../global/config.js';
import type { DeliverRecipient, DeliverRequest } from '../global/deliver_request.js';
import type { Resolved } from '../trivial-rewrite/resolve.js';
import type { ActiveMessage } from './message.js';
import type { Transport } from './transport.js';

/**
 * A content filter (FILTER action, content_filter) overrides the
 * resolver, as in Postfix: its transport, its nexthop, else
 * $default_filter_nexthop, else the recipient's domain, else
 * $myhostname; the recipient stays as it is.
 */
export function filtered(cfg: MainConfig, filter: string, recipient: string): Resolved {
  const colon = filter.indexOf(':');
  const transport = colon < 0 ? filter : filter.slice(0, colon);
  let nexthop = colon < 0 ? '' : filter.slice(colon + 1);
  if (nexthop === '') nexthop = cfg.get('default_filter_nexthop');
  if (nexthop === '') {
    const at = recipient.lastIndexOf('@');
    nexthop = at >= 0 && at < recipient.length - 1 ? recipient.slice(at + 1) : cfg.get('myhostname');
  }
  const defer = cfg.list('defer_transports').includes(transport);
  return { transport, nexthop, recipient, flags: 0, defer };
}

/** Is the local part $double_bounce_sender (any case)? */
export function isDoubleBounce(recipient: string, doubleBounceSender: string): boolean {
  const at = recipient.lastIndexOf('@');
  const local = at < 0 ? recipient : recipient.slice(0, at);
  return local.toLowerCase() === doubleBounceSender.toLowerCase();
}

/**
 * One queue per nexthop; for transports that take one recipient per
 * delivery (local) one per "localpart@nexthop", the address extension
 * cut at the first $recipient_delimiter character, so one mailbox cannot
 * take all the delivery slots. Lower case, as Postfix.
 */
export function queueName(t: Transport, nexthop: string, recipient: string, delimiters: string): string {
  if (t.limits.recipientLimit !== 1 || t.name === 'error' || t.name === 'retry') return nexthop.toLowerCase();
  const at = recipient.lastIndexOf('@');
  let local = at < 0 ? recipient : recipient.slice(0, at);
  if (delimiters !== '') {
    const cut = [...delimiters].map((d) => local.indexOf(d)).filter((i) => i > 0);
    if (cut.length > 0) local = local.slice(0, Math.min(...cut));
  }
  return `${local}@${nexthop}`.toLowerCase();
}

/** The request for one entry: the message from active/, these recipients, qmgr's times. */
export function deliverRequest(
  m: ActiveMessage,
  transport: string,
  nexthop: string,
  rcpts: DeliverRecipient[],
): DeliverRequest {
  const flags = m.traceFlags;
  return {
    queue_name: 'active',
    queue_id: m.id,
    transport,
    nexthop,
    sender: m.sender,
    size: m.size,
    arrival: m.arrival,
    ...(m.dsnEnvid === undefined ? {} : { dsn_envid: m.dsnEnvid }),
    ...(m.dsnRet === undefined ? {} : { dsn_ret: m.dsnRet }),
    attributes: m.attributes,
    recipients: rcpts,
    stats: { incoming: m.incomingAt, active: m.activeAt },
    ...(flags === 0 ? {} : { flags }),
  };
}
