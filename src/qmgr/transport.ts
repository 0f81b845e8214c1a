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
 * successful deliveries as it is wide, up to that limit; a destination
 * failure narrows it, and $<transport>_destination_concurrency_failed_
 * cohort_limit failed cohorts suspend the destination for
 * $minimal_backoff_time, as Postfix's qmgr_queue_throttle); at most the
 * transport's process limit in all; queues take turns (round robin).
 * Rate delays make slow channels: after each delivery a destination rests
 * $<transport>_destination_rate_delay (and takes one delivery at a time),
 * and the transport sends at most one request per
 * $<transport>_transport_rate_delay; a timer wakes the scheduler.
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
  #failCohorts = 0;
  #deadUntil = 0;
  /** Why it is suspended: "4.4.1 delivery temporarily suspended: ...". */
  dsn = '';
  /** When the next congestion warning may be logged (ms). */
  clogWarnAt = 0;

  constructor(
    readonly transport: Transport,
    readonly name: string,
    readonly nexthop: string,
    public window: number,
  ) {}

  /** Suspended after failed cohorts; comes back by itself after the backoff time. */
  get dead(): boolean {
    if (this.#deadUntil === 0) return false;
    if (this.#deadUntil > Date.now()) return true;
    this.unthrottle();
    return false;
  }

  #suspendedUntil = 0;

  get ready(): boolean {
    return this.todo.length > 0 && this.busy < this.window && !this.dead && !this.suspended;
  }

  /** Resting between rate-limited deliveries. */
  get suspended(): boolean {
    return this.#suspendedUntil > Date.now();
  }

  suspend(ms: number): void {
    this.#suspendedUntil = Date.now() + ms;
  }

  /** A delivery went through: widen the window, one step per window's worth. */
  positiveFeedback(): void {
    this.#failCohorts = 0;
    const limit = this.transport.limits.concurrencyLimit;
    if (limit > 0 && this.window >= limit) return;
    if (++this.#successes >= this.window) {
      this.#successes = 0;
      this.window++;
    }
  }

  /**
   * The destination failed (Postfix's qmgr_queue_throttle): a failed
   * cohort counts 1/window; at the failed cohort limit the queue is
   * suspended for `backoffMs`, else the window narrows by one. True when
   * it is now suspended.
   */
  negativeFeedback(dsn: string, backoffMs: number): boolean {
    this.#failCohorts += 1 / this.window;
    const lim = this.transport.limits.failedCohortLimit;
    if (lim > 0 && this.#failCohorts >= lim) {
      this.#deadUntil = Date.now() + backoffMs;
      this.dsn = dsn;
      return true;
    }
    this.#successes = 0;
    this.window = Math.max(1, this.window - 1);
    return false;
  }

  /** Back in business (time is up, or a flush): the initial window again. */
  unthrottle(): void {
    if (this.#deadUntil === 0) return;
    this.#deadUntil = 0;
    this.#failCohorts = 0;
    this.dsn = '';
    this.window = Math.max(this.busy, this.transport.initialWindow);
  }

  /** Kept while dead or resting, so new mail for it waits too. */
  get idle(): boolean {
    return this.busy === 0 && this.todo.length === 0 && !this.dead && !this.suspended;
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
  /** $<transport>_transport_rate_delay: no new delivery before this (ms). */
  #nextSendAt = 0;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = 0;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly limits: TransportLimits,
    /** How long one delivery may take before qmgr gives up on it ($daemon_timeout). */
    timeoutMs: number,
    /** Called when a rate delay is over: something may be sent again. */
    private readonly wake: () => void = () => {},
  ) {
    this.client = new RpcClient(path, { timeoutMs });
  }

  /** Ask for a wake-up `ms` from now (one timer, the earliest wins). */
  wakeIn(ms: number): void {
    const at = Date.now() + Math.max(1, ms);
    if (this.#wakeTimer !== undefined) {
      if (this.#wakeAt <= at) return;
      clearTimeout(this.#wakeTimer);
    }
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.wake();
      },
      Math.max(1, ms),
    );
  }

  get dead(): boolean {
    return this.deadUntil > Date.now();
  }

  /** $initial_destination_concurrency, capped by the destination concurrency limit. */
  get initialWindow(): number {
    const lim = this.limits.concurrencyLimit;
    const init = this.limits.initialConcurrency;
    return Math.max(1, lim > 0 ? Math.min(init, lim) : init);
  }

  queue(name: string, nexthop: string): DestQueue {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new DestQueue(this, name, nexthop, this.initialWindow);
      this.queues.set(name, q);
    }
    return q;
  }

  /** The next entry that may be sent now, taking queues in turn; null when none may. */
  select(): Entry | null {
    const lim = this.limits.processLimit;
    if (lim > 0 && this.busy >= lim) return null;
    const now = Date.now();
    const qs = [...this.queues.values()];
    let waiting = false;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[(this.#rr + i) % qs.length] as DestQueue;
      if (!q.ready) {
        if (q.suspended && q.todo.length > 0) waiting = true;
        continue;
      }
      // One timer for the transport's rate delay; the queue stays where it is in the turn.
      if (now < this.#nextSendAt) {
        this.wakeIn(this.#nextSendAt - now);
        return null;
      }
      this.#rr = (this.#rr + i + 1) % Math.max(1, qs.length);
      const e = q.todo.shift() as Entry;
      q.busy++;
      this.busy++;
      if (this.limits.transportRateDelay > 0) this.#nextSendAt = now + this.limits.transportRateDelay * 1000;
      return e;
    }
    if (waiting) this.wakeIn(1000);
    return null;
  }

  /** Entries waiting, taken out of their queues (the transport died), or of one queue. */
  drain(only?: DestQueue): Entry[] {
    const out: Entry[] = [];
    for (const q of this.queues.values()) if (only === undefined || q === only) out.push(...q.todo.splice(0));
    this.#forgetIdle();
    return out;
  }

  /** Send one selected entry; resolves once, never rejects. Call finished() after. */
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
    }
  }

  /** The caller is done with a sent entry's result (feedback given): its slot is free. */
  finished(e: Entry): void {
    e.queue.busy--;
    this.busy--;
    // A rate-limited destination is a slow channel: it rests after each delivery.
    const delay = this.limits.destinationRateDelay * 1000;
    if (delay > 0) {
      e.queue.suspend(delay);
      if (e.queue.todo.length > 0) this.wakeIn(delay);
    }
    this.#forgetIdle();
  }

  #forgetIdle(): void {
    for (const [name, q] of this.queues) if (q.idle) this.queues.delete(name);
  }

  close(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
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
  const d = r.destination as { status?: unknown; reason?: unknown } | undefined;
  const destination =
    typeof d === 'object' && d !== null && typeof d.status === 'string' && typeof d.reason === 'string'
      ? { status: d.status, reason: d.reason }
      : undefined;
  return {
    status: r.status === 0 ? 0 : 1,
    results,
    ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
    ...(destination === undefined ? {} : { destination }),
  };
}
