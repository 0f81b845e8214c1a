/*
 * deliver_status - a recipient's outcome, recorded the way Postfix does
 *
 *   const st = new RecipientStatus(cfg, req, file, stats);
 *   await st.sent(rcpt, { status: '2.0.0', relay: 'local', reason: 'delivered to mailbox' });
 *   await st.bounce(rcpt, { status: '5.1.1', relay: 'local', reason: 'unknown user: "x"' });
 *   await st.defer(rcpt, { status: '4.2.2', relay: 'local', reason: 'mailbox full' });
 *
 * Used by delivery agents and by qmgr (when it defers or expires mail
 * itself). Each call logs the "to=<...>, relay=..., status=..." line and
 * returns the outcome that really happened:
 *   sent:   trace record when DSN NOTIFY=SUCCESS asked for one, then the
 *           recipient is marked done (R -> D; not synced, docs/queue.md).
 *           A trace record that cannot be made defers instead (the next
 *           attempt may deliver a duplicate: at least once, never lost).
 *   bounce: bounce record, then done; soft_bounce = yes turns it into a
 *           deferral with a 4.X.X status; a bounce record that cannot be
 *           made defers ("bounce or trace service failure").
 *   defer:  defer record; the recipient stays to do (a failed record
 *           only loses the reason shown by mailq).
 * With DEL_REQ_FLAG.RECORD (sendmail -v) every outcome is also a trace
 * record (delivered, failed, delayed) for the delivery report; a trace
 * record that cannot be made defers the recipient, as in Postfix.
 * With DEL_REQ_FLAG.VERIFY (sendmail -bv) nothing was delivered: sent
 * becomes "deliverable", bounce and defer "undeliverable" (soft_bounce
 * gives the 4.X.X code). Each is a trace record only (no bounce or defer
 * record), logged "status=deliverable"/"status=undeliverable", and the
 * recipient is done; the outcome qmgr hears is sent or bounced. A trace
 * record that cannot be made leaves the recipient to do ("deferred").
 */

import { type LogEntry, logAppend } from './bounce_client.js';
import type { MainConfig } from './config.js';
import type { DeliverRecipient, DeliverRequest, RecipientOutcome } from './deliver_request.js';
import { DEL_REQ_FLAG } from './deliver_request.js';
import { DSN_NOTIFY_SUCCESS, type DsnAction } from './dsn.js';
import {
  type DeliveryStatus,
  delayResolution,
  deliveryLine,
  type MsgStats,
  nowMicros,
} from './log_format.js';
import { msg } from './msg.js';
import type { QueueFileReader } from './queue_file_reader.js';

export interface DsnDetail {
  /** Enhanced status code, "2.0.0". */
  readonly status: string;
  /** "delivered to mailbox", "unknown user: \"x\"", "250 2.0.0 Ok: queued as X" */
  readonly reason: string;
  /** "local", "host[addr]:port", "none" */
  readonly relay: string;
  /** Default: delivered / failed / delayed. */
  readonly action?: DsnAction;
}

export interface StatusMessage {
  readonly queue_id: string;
  readonly flags?: number;
}

export class RecipientStatus {
  readonly #resolution: number;
  readonly #softBounce: boolean;

  constructor(
    readonly cfg: MainConfig,
    readonly req: StatusMessage,
    /** Open with { write: true } to mark recipients done; null when qmgr logs for a file it cannot open. */
    readonly file: QueueFileReader | null,
    readonly stats: MsgStats,
  ) {
    this.#resolution = delayResolution(cfg);
    this.#softBounce = cfg.bool('soft_bounce');
  }

  /** `keep`: log and record, but leave the recipient to do (local(8): another part of its delivery was deferred). */
  async sent(r: DeliverRecipient, d: DsnDetail, opts: { keep?: boolean } = {}): Promise<RecipientOutcome> {
    if (this.#verify) return this.#probe(r, d, 'deliverable', opts);
    const wantsTrace = ((r.dsn_notify ?? 0) & DSN_NOTIFY_SUCCESS) !== 0 || this.#record;
    if (wantsTrace) {
      try {
        await logAppend(this.cfg, 'trace', this.req.queue_id, this.#entry(r, d, 'delivered'));
      } catch (e) {
        msg.warn(`${this.req.queue_id}: trace record for ${r.address}: ${(e as Error).message}`);
        return this.defer(r, { ...d, status: '4.3.0', reason: 'bounce or trace service failure' });
      }
    }
    this.#log(r, d, 'sent');
    if (opts.keep !== true) await this.#markDone(r);
    return 'sent';
  }

  async bounce(r: DeliverRecipient, d: DsnDetail, opts: { keep?: boolean } = {}): Promise<RecipientOutcome> {
    if (this.#softBounce) {
      const soft = { ...d, status: `4${d.status.slice(1)}` };
      if (this.#verify) return this.#probe(r, soft, 'undeliverable', opts);
      if (!(await this.#traceRecord(r, soft, 'delayed'))) return this.#traceFailed(r, soft);
      await this.#appendDefer(r, soft);
      this.#log(r, soft, 'softbounce');
      return 'deferred';
    }
    if (this.#verify) return this.#probe(r, d, 'undeliverable', opts);
    if (!(await this.#traceRecord(r, d, 'failed'))) return this.#traceFailed(r, d);
    try {
      await logAppend(this.cfg, 'bounce', this.req.queue_id, this.#entry(r, d, 'failed'));
    } catch (e) {
      msg.warn(`${this.req.queue_id}: bounce record for ${r.address}: ${(e as Error).message}`);
      return this.defer(r, { ...d, status: '4.3.0', reason: 'bounce or trace service failure' });
    }
    this.#log(r, d, 'bounced');
    if (opts.keep !== true) await this.#markDone(r);
    return 'bounced';
  }

  async defer(r: DeliverRecipient, d: DsnDetail): Promise<RecipientOutcome> {
    if (this.#verify) return this.#probe(r, d, 'undeliverable', {});
    // A failed trace record for a deferral changes nothing: the recipient stays to do.
    await this.#traceRecord(r, d, 'delayed');
    await this.#appendDefer(r, d);
    this.#log(r, d, 'deferred');
    return 'deferred';
  }

  get #verify(): boolean {
    return ((this.req.flags ?? 0) & DEL_REQ_FLAG.VERIFY) !== 0;
  }

  get #record(): boolean {
    return ((this.req.flags ?? 0) & DEL_REQ_FLAG.RECORD) !== 0;
  }

  /** sendmail -v: the outcome goes into the delivery report too; false when the record failed. */
  async #traceRecord(r: DeliverRecipient, d: DsnDetail, action: DsnAction): Promise<boolean> {
    if (!this.#record) return true;
    try {
      await logAppend(this.cfg, 'trace', this.req.queue_id, this.#entry(r, d, action));
      return true;
    } catch (e) {
      msg.warn(`${this.req.queue_id}: trace record for ${r.address}: ${(e as Error).message}`);
      return false;
    }
  }

  #traceFailed(r: DeliverRecipient, d: DsnDetail): Promise<RecipientOutcome> {
    return this.defer(r, { ...d, status: '4.3.0', reason: 'bounce or trace service failure' });
  }

  /** An address probe's verdict: a trace record, the log line, done. */
  async #probe(
    r: DeliverRecipient,
    d: DsnDetail,
    verdict: 'deliverable' | 'undeliverable',
    opts: { keep?: boolean },
  ): Promise<RecipientOutcome> {
    try {
      await logAppend(this.cfg, 'trace', this.req.queue_id, {
        ...this.#entry(r, d, verdict),
        action: verdict,
      });
    } catch (e) {
      msg.warn(`${this.req.queue_id}: trace record for ${r.address}: ${(e as Error).message}`);
      return 'deferred';
    }
    this.#log(r, d, verdict);
    if (opts.keep !== true) await this.#markDone(r);
    return verdict === 'deliverable' ? 'sent' : 'bounced';
  }

  async #appendDefer(r: DeliverRecipient, d: DsnDetail): Promise<void> {
    try {
      await logAppend(this.cfg, 'defer', this.req.queue_id, this.#entry(r, d, 'delayed'));
    } catch (e) {
      msg.warn(`${this.req.queue_id}: defer record for ${r.address}: ${(e as Error).message}`);
    }
  }

  #entry(r: DeliverRecipient, d: DsnDetail, action: DsnAction): LogEntry {
    return {
      recipient: r,
      status: d.status,
      action: d.action ?? action,
      reason: d.reason,
      relay: d.relay,
    };
  }

  #log(r: DeliverRecipient, d: DsnDetail, status: DeliveryStatus): void {
    const now = nowMicros();
    const line = deliveryLine(
      {
        queueId: this.req.queue_id,
        recipient: r.address,
        ...(r.orig === undefined ? {} : { origRecipient: r.orig }),
        relay: d.relay,
        stats: { ...this.stats, deliverDone: now },
        dsn: d.status,
        status,
        text: d.reason,
      },
      now,
      this.#resolution,
    );
    msg.info(status === 'softbounce' ? line.replace('status=softbounce', 'status=SOFTBOUNCE') : line);
  }

  async #markDone(r: DeliverRecipient): Promise<void> {
    if (this.file === null) return;
    const stored = this.file.recipients.find((x) => x.offset === r.offset);
    if (stored === undefined) {
      msg.warn(`${this.req.queue_id}: no recipient record at offset ${r.offset}`);
      return;
    }
    await this.file.markDone(stored);
  }
}

export type { DeliverRequest };
