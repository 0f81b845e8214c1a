/*
 * message - a message in the active queue, as the queue manager sees it
 *
 * What qmgr keeps in memory while a message is active: the envelope facts
 * delivery requests and notices need, the number of delivery requests
 * still out (refcount) and whether any recipient must be tried again
 * (deferred). The queue file itself is open only while qmgr reads or
 * updates it; the delivery agents open their own.
 */

import { DEL_REQ_FLAG, type DeliverRecipient } from '../global/deliver_request.js';
import type { MsgStats } from '../global/log_format.js';
import type { StoredRecipient } from '../global/queue_file_reader.js';
import type { ScanFlags } from './scan.js';

export class ActiveMessage {
  /** Delivery requests sent or waiting, not yet settled. */
  refcount = 0;
  /** Some recipient was deferred: the message goes back to deferred/. */
  deferred = false;
  /** Recipients handed to transports, for qmgr_message_recipient_limit. */
  recipients = 0;
  /** postsuper -e marked it: returned to the sender after this attempt. */
  forceExpire = false;
  /**
   * sendmail -v reports the first delivery attempt only: Postfix's qmgr
   * removes the flag once the report went out. A message that comes back
   * from deferred/ has had its attempt (and its report).
   */
  recordDone = false;

  constructor(
    readonly id: string,
    readonly sender: string,
    readonly size: number,
    readonly arrival: { readonly sec: number; readonly usec: number },
    readonly attributes: Readonly<Record<string, string>>,
    readonly dsnEnvid: string | undefined,
    readonly dsnRet: number | undefined,
    /** When the delay warning is due (seconds), 0 = none. */
    public warnTime: number,
    readonly activeAt: number,
    readonly flags: ScanFlags,
  ) {}

  get incomingAt(): number {
    return this.arrival.sec * 1_000_000 + this.arrival.usec;
  }

  /**
   * DEL_REQ_FLAG bits for the delivery requests, from the queue file's
   * trace_flags attribute (Postfix keeps them under that name: sendmail -v
   * asks for a delivery record); 0 when absent or malformed.
   */
  get traceFlags(): number {
    const v = this.attributes.trace_flags;
    const flags = v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : 0;
    return this.recordDone ? flags & ~DEL_REQ_FLAG.RECORD : flags;
  }

  /**
   * "transport:nexthop" of a content filter (cleanup's content_filter
   * attribute: header/body_checks FILTER, $content_filter), null when
   * none or when the message is an address probe (never filtered).
   */
  get contentFilter(): string | null {
    const f = this.attributes.content_filter;
    if (f === undefined || f.trim() === '' || (this.traceFlags & DEL_REQ_FLAG.VERIFY) !== 0) return null;
    return f.trim();
  }

  get stats(): MsgStats {
    return { incomingArrival: this.incomingAt, activeArrival: this.activeAt };
  }

  /** What the bounce, defer and trace services need to send a notice. */
  get noticeTarget() {
    return {
      queue_name: 'active',
      queue_id: this.id,
      sender: this.sender,
      ...(this.dsnEnvid === undefined ? {} : { dsn_envid: this.dsnEnvid }),
      ...(this.dsnRet === undefined ? {} : { dsn_ret: this.dsnRet }),
    };
  }
}

/** A stored recipient as a delivery request names it. */
export function deliverRecipient(r: StoredRecipient, address = r.address): DeliverRecipient {
  return {
    address,
    offset: r.offset,
    ...(r.orig === undefined ? {} : { orig: r.orig }),
    ...(r.dsnOrcpt === undefined ? {} : { dsn_orcpt: r.dsnOrcpt }),
    ...(r.dsnNotify === undefined ? {} : { dsn_notify: r.dsnNotify }),
  };
}
