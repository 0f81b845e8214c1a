/*
 * transport - per-transport and per-destination delivery scheduling
 *
 * A transport (master.cf service name: local, relay, error...) holds one
 * queue per destination (the nexthop; for transports that take one
 * recipient per delivery, as local, "localpart@nexthop" without address
 * extension, so one busy mailbox does not hold up the others, as in
 * Postfix). A queue holds entries: one message's recipients for that
 * destination, at most $<transport>_destination_recipient_limit each.
 *
 * Guarantees: at most `window` deliveries per queue are in progress (the
 * window starts at $initial_destination_concurrency, capped by the
 * destination concurrency limit, and grows by one after as many
 * successful deliveries as it is wide, up to that limit); at most the
 * transport's process limit in all; queues take turns (round robin).
 * Every request goes over one persistent rpc connection to
 * private/<transport>; each settles exactly once with the reply, or as
 * "unavailable" (nobody listens: the transport is throttled for
 * $transport_retry_time) or "crash" (the connection broke mid-request).
 */

import type { DeliverRecipient, DeliverReply, DeliverRequest } from '../global/deliver_request.js';
import { RpcClient, RpcError } from '../global/rpc.js';
import type { ActiveMessage } from './message.js';
import type { TransportLimits } from './params.js';

export interface Entry {
  readonly message: ActiveMessage;
  readonly queue: DestQueue;
  readonly recipients: DeliverRecipient[];
  /** The request, built when the entry is sent. */
  readonly request: () => DeliverRequest;
}

export type DeliveryResult =
  | { readonly kind: 'reply'; readonly reply: DeliverReply }
  | { readonly kind: 'unavailable'; readonly why: string }
  | { readonly kind: 'crash'; readonly why: string };

export class DestQueue {
  readonly todo: Entry[] = [];
  busy = 0;
  #successes = 0;

  constructor(
    readonly transport: Transport,
    readonly name: string,
    readonly nexthop: string,
    public window: number,
  ) {}

  get ready(): boolean {
    return this.todo.length > 0 && this.busy < this.window;
  }

  /** A delivery went through: widen the window, one step per window's worth. */
  positiveFeedback(): void {
    const limit = this.transport.limits.concurrencyLimit;
    if (limit > 0 && this.window >= limit) return;
    if (++this.#successes >= this.window) {
      this.#successes = 0;
      this.window++;
    }
  }
}

export class Transport {
  readonly queues = new Map<string, DestQueue>();
  readonly client: RpcClient;
  busy = 0;
  /** Until when (ms) nobody is asked: the last connection attempt failed. */
  deadUntil = 0;
  /** Why it is dead, "4.3.0 mail transport unavailable": the reason its recipients are deferred with. */
  dsn = '4.3.0 mail transport unavailable';
  #rr = 0;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly limits: TransportLimits,
    readonly initialConcurrency: number,
    /** How long one delivery may take before qmgr gives up on it ($daemon_timeout). */
    timeoutMs: number,
  ) {
    this.client = new RpcClient(path, { timeoutMs });
  }

  get dead(): boolean {
    return this.deadUntil > Date.now();
  }

  queue(name: string, nexthop: string): DestQueue {
    let q = this.queues.get(name);
    if (q === undefined) {
      const lim = this.limits.concurrencyLimit;
      const window = Math.max(1, lim > 0 ? Math.min(this.initialConcurrency, lim) : this.initialConcurrency);
      q = new DestQueue(this, name, nexthop, window);
      this.queues.set(name, q);
    }
    return q;
  }

  /** The next entry that may be sent now, taking queues in turn; null when none may. */
  select(): Entry | null {
    const lim = this.limits.processLimit;
    if (lim > 0 && this.busy >= lim) return null;
    const qs = [...this.queues.values()];
    for (let i = 0; i < qs.length; i++) {
      const q = qs[(this.#rr + i) % qs.length] as DestQueue;
      if (!q.ready) continue;
      this.#rr = (this.#rr + i + 1) % Math.max(1, qs.length);
      const e = q.todo.shift() as Entry;
      q.busy++;
      this.busy++;
      return e;
    }
    return null;
  }

  /** Entries waiting, taken out of their queues (the transport died). */
  drain(): Entry[] {
    const out: Entry[] = [];
    for (const q of this.queues.values()) out.push(...q.todo.splice(0));
    this.#forgetIdle();
    return out;
  }

  /** Send one selected entry; resolves once, never rejects. */
  async send(e: Entry): Promise<DeliveryResult> {
    try {
      const r = await this.client.call({ ...e.request() });
      return { kind: 'reply', reply: toReply(r) };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (err instanceof RpcError && /no such service|ECONNREFUSED|ENOENT|ENOTSOCK/.test(why)) {
        return { kind: 'unavailable', why: connectError(why) };
      }
      return { kind: 'crash', why };
    } finally {
      e.queue.busy--;
      this.busy--;
      this.#forgetIdle();
    }
  }

  #forgetIdle(): void {
    for (const [name, q] of this.queues) if (q.busy === 0 && q.todo.length === 0) this.queues.delete(name);
  }

  close(): void {
    this.client.close();
  }
}

/** The system error text Postfix's %m would show for a failed connect. */
function connectError(why: string): string {
  if (/no such service|ENOENT/.test(why)) return 'No such file or directory';
  if (/ECONNREFUSED/.test(why)) return 'Connection refused';
  if (/ENOTSOCK/.test(why)) return 'Socket operation on non-socket';
  return why;
}

function toReply(r: Record<string, unknown>): DeliverReply {
  const results: { offset: number; outcome: 'sent' | 'bounced' | 'deferred' }[] = [];
  if (Array.isArray(r.results)) {
    for (const x of r.results as Record<string, unknown>[]) {
      if (typeof x !== 'object' || x === null || typeof x.offset !== 'number') continue;
      const o = x.outcome;
      if (o === 'sent' || o === 'bounced' || o === 'deferred') results.push({ offset: x.offset, outcome: o });
    }
  }
  return {
    status: r.status === 0 ? 0 : 1,
    results,
    ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
  };
}
