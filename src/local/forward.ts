/*
 * forward - re-submit a message to new recipients ("forwarded as ID")
 *
 * Addresses from .forward files, :include: files, lists with an owner-
 * alias and remote alias members are not delivered here: like Postfix,
 * local(8) hands the message back to cleanup as a new message, so each
 * new recipient gets its own queue file status. One new message is made
 * per forwarding recipient and envelope sender, with a Delivered-To:
 * header naming the forwarding recipient (prepend_delivered_header
 * "forward"), the original arrival time, DSN ENVID/RET and, per
 * recipient, the original recipient and DSN NOTIFY/ORCPT.
 */

import { CLEANUP_FLAG, CleanupClient } from '../global/cleanup_client.js';
import type { DeliveryJob } from '../global/deliver_agent.js';
import type { DeliverRecipient } from '../global/deliver_request.js';
import { msg } from '../global/msg.js';
import type { QueueRecipient } from '../global/queue_file.js';

interface Group {
  readonly from: DeliverRecipient;
  readonly sender: string;
  readonly deliveredTo: boolean;
  readonly recipients: QueueRecipient[];
  readonly seen: Set<string>;
}

export interface ForwardResult {
  readonly rcpt: DeliverRecipient;
  readonly kind: 'sent' | 'defer';
  readonly status: string;
  readonly reason: string;
}

export class Forwarder {
  readonly #groups = new Map<string, Group>();

  add(from: DeliverRecipient, sender: string, rcpt: QueueRecipient, deliveredTo: boolean): void {
    const key = `${from.address}\0${sender}`;
    let g = this.#groups.get(key);
    if (g === undefined) {
      g = { from, sender, deliveredTo, recipients: [], seen: new Set() };
      this.#groups.set(key, g);
    }
    const k = rcpt.address.toLowerCase();
    if (g.seen.has(k)) return;
    g.seen.add(k);
    g.recipients.push(rcpt);
  }

  get empty(): boolean {
    return this.#groups.size === 0;
  }

  /** Submit every group; one result per forwarding recipient and sender. */
  async finish(job: DeliveryJob): Promise<ForwardResult[]> {
    const out: ForwardResult[] = [];
    for (const g of this.#groups.values()) out.push(await submit(job, g));
    this.#groups.clear();
    return out;
  }
}

async function submit(job: DeliveryJob, g: Group): Promise<ForwardResult> {
  const req = job.req;
  const fail = (why: string): ForwardResult => {
    msg.warn(`${req.queue_id}: unable to forward message: ${why}`);
    return {
      rcpt: g.from,
      kind: 'defer',
      status: '4.3.0',
      reason: 'unable to forward message',
    };
  };
  let c: CleanupClient;
  try {
    c = await CleanupClient.open(job.cfg, CLEANUP_FLAG.MAP_OK);
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    await c.envelope({
      arrival: req.arrival,
      sender: g.sender,
      recipients: g.recipients,
      // A probe or a recorded delivery stays one when forwarded (sendmail -bv/-v), as in Postfix.
      attributes: {
        rewrite_context: 'local',
        log_ident: req.queue_id,
        ...(req.flags ? { trace_flags: String(req.flags) } : {}),
      },
      ...(req.dsn_envid === undefined ? {} : { dsnEnvid: req.dsn_envid }),
      ...(req.dsn_ret === undefined ? {} : { dsnRet: req.dsn_ret }),
    });
    if (g.deliveredTo) await c.content(Buffer.from(`Delivered-To: ${g.from.address}\n`));
    for await (const chunk of job.content()) await c.content(chunk);
    const r = await c.finish();
    if (r.status !== 0) return fail(`cleanup status ${r.status}: ${r.reason}`);
    return { rcpt: g.from, kind: 'sent', status: '2.0.0', reason: `forwarded as ${r.queueId}` };
  } catch (e) {
    c.abort();
    return fail((e as Error).message);
  }
}
