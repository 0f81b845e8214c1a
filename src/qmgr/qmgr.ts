/*
 * qmgr - the queue manager: incoming and deferred mail into the active
 * queue, recipients to delivery agents, messages to their end
 *
 * Start-up: files left in active/ (qmgr died) go back to incoming/ and
 * both queues are scanned. Triggers (docs/daemons.md): A and I scan
 * incoming, D scans deferred, W both, F makes every deferred message due,
 * ignores defer_transports for that pass and forgets dead transports.
 * Every $queue_run_delay the deferred queue is scanned again; a deferred
 * file is taken only when its time stamp (the next attempt) has come.
 *
 * Messages enter the active queue while fewer than
 * $qmgr_message_active_limit messages and $qmgr_message_recipient_limit
 * recipients are in it, incoming and deferred taking turns. Entering:
 * rename to active/, open and check the file (damaged or torn: corrupt/,
 * with a warning, and carry on), log "from=<>, size=, nrcpt= (queue
 * active)", drop the defer log of the previous attempt, resolve each
 * pending recipient (trivial-rewrite's resolver, in-process) and queue it
 * for its transport and destination (transport.ts). As in Postfix, what
 * qmgr refuses goes to the retry or error agent with the reason as
 * nexthop: resolver failure (retry, 4.3.0), bad address syntax (error,
 * 5.1.3), defer_transports (retry, 4.3.2 "deferred transport"), a dead
 * transport (retry, 4.3.0 "mail transport unavailable" or "unknown mail
 * transport error": only recipients the file still has to do), a dead
 * destination (retry, "delivery temporarily suspended: ..."); with retry
 * itself down, qmgr defers them itself (relay=none). Mail to the
 * double-bounce address is discarded (sent) by qmgr. When the last
 * request of a message is settled, done.ts takes over.
 *
 * Guarantees: a recipient gets exactly one outcome per attempt; nothing
 * qmgr does marks a recipient done without its record; a message is in
 * exactly one queue directory at any instant.
 */

import { statSync, utimesSync } from 'node:fs';
import type { MainConfig } from '../global/config.js';
import type { DeliverRecipient, DeliverReply } from '../global/deliver_request.js';
import { type DsnDetail, RecipientStatus } from '../global/deliver_status.js';
import { nowMicros, queueActiveLine } from '../global/log_format.js';
import { msg } from '../global/msg.js';
import {
  moveQueueFile,
  type QueueLayout,
  queueFilePath,
  removeQueueFile,
  scanQueue,
} from '../global/queue_dirs.js';
import { openQueueFile, type QueueFileReader } from '../global/queue_file_reader.js';
import { servicePath } from '../master/trigger.js';
import { EXPIRE_MODE_BIT } from '../postsuper/ops.js';
import {
  RESOLVE_CLASS_LOCAL,
  RESOLVE_FLAG_ERROR,
  RESOLVE_FLAG_FAIL,
  type Resolved,
  Resolver,
} from '../trivial-rewrite/resolve.js';
import { clogged, clogWarnings } from './clog.js';
import { messageDone } from './done.js';
import { ActiveMessage, deliverRecipient } from './message.js';
import { type QmgrParams, qmgrParams, transportLimits } from './params.js';
import { deliverRequest, filtered, isDoubleBounce, queueName } from './route.js';
import { QueueScan, type ScanFlags } from './scan.js';
import { type DeliveryResult, type DestQueue, type Entry, Transport } from './transport.js';

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

const NONE = 'none';
/** Messages on their way into the active queue at once. */
const FEED_PARALLEL = 16;

interface Group {
  readonly transport: Transport;
  readonly queue: string;
  readonly nexthop: string;
  readonly rcpts: DeliverRecipient[];
}

export class Qmgr {
  readonly params: QmgrParams;
  readonly #resolver: Resolver;
  readonly #messages = new Map<string, ActiveMessage>();
  readonly #transports = new Map<string, Transport>();
  readonly #scans: QueueScan[];
  #first = 0;
  #pumping = false;
  #again = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #inCoreRecipients = 0;
  /** Queue IDs on their way into the active queue. */
  readonly #feeding = new Set<string>();

  constructor(
    readonly cfg: MainConfig,
    readonly layout: QueueLayout,
  ) {
    // As Postfix's qmgr: a short IPC timeout, so a stuck bounce/defer/trace
    // service cannot hold the queue manager for an hour.
    cfg.set('ipc_timeout', String(cfg.time('qmgr_ipc_timeout', 's', 1)));
    this.params = qmgrParams(cfg);
    this.#resolver = new Resolver(cfg);
    this.#scans = [new QueueScan(layout, 'incoming'), new QueueScan(layout, 'deferred')];
  }

  async start(): Promise<void> {
    await this.#recoverActive();
    this.#scans[0]?.request();
    this.#scans[1]?.request();
    this.#timer = setInterval(() => {
      this.#scans[1]?.request();
      this.#pump();
    }, this.params.queueRunDelay * 1000);
    this.#pump();
  }

  /** Files left in active/ by a qmgr that died go back to incoming/, due now. */
  async #recoverActive(): Promise<void> {
    const now = Date.now() / 1000;
    for await (const f of scanQueue(this.layout, 'active')) {
      try {
        utimesSync(f.path, now, now);
        await moveQueueFile(this.layout, 'active', 'incoming', f.id);
      } catch (e) {
        msg.warn(`${f.id}: rename from active to incoming: ${why(e)}`);
      }
    }
  }

  trigger(bytes: Buffer): void {
    let incoming = false;
    let deferred: Partial<ScanFlags> | null = null;
    for (const b of bytes) {
      const c = String.fromCharCode(b);
      if (c === 'A' || c === 'I') incoming = true;
      else if (c === 'D') deferred = { ...(deferred ?? {}) };
      else if (c === 'W') {
        incoming = true;
        deferred = { ...(deferred ?? {}) };
      } else if (c === 'F') {
        deferred = { all: true, dfxp: true };
        for (const t of this.#transports.values()) {
          t.deadUntil = 0;
          for (const q of t.queues.values()) q.unthrottle();
        }
      }
    }
    if (incoming) this.#scans[0]?.request();
    if (deferred !== null) this.#scans[1]?.request(deferred);
    this.#pump();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const t of this.#transports.values()) t.close();
    await this.#resolver.close().catch(() => {});
  }

  /** Let messages into the active queue and send what may be sent; never runs twice at once. */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          await this.#feedAll();
          this.#dispatch();
        } while (this.#again && !this.#stopping);
      } catch (e) {
        msg.warn(`queue scan: ${why(e)}`);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  #roomInActive(): boolean {
    const active = this.#messages.size + this.#feeding.size;
    if (active === 0) return true;
    return active < this.params.activeLimit && this.#inCoreRecipients < this.params.recipientLimit;
  }

  /**
   * Incoming and deferred take turns, one message each, while there is
   * room; once the active queue is full, incoming goes first next time.
   * Up to FEED_PARALLEL messages are on their way in at once, so one
   * message's renames and reads do not wait for another's.
   */
  async #feedAll(): Promise<void> {
    while (!this.#stopping && this.#roomInActive() && this.#feeding.size < FEED_PARALLEL) {
      let fed = false;
      for (let i = 0; i < this.#scans.length && !fed; i++) {
        const idx = (this.#first + i) % this.#scans.length;
        const scan = this.#scans[idx] as QueueScan;
        const next = await scan.next();
        if (next === null) continue;
        fed = true;
        if (this.#feeding.has(next.id) || this.#messages.has(next.id)) continue;
        this.#feeding.add(next.id);
        // Round robin while there is room; a full active queue prefers new mail, as Postfix.
        this.#first = this.#roomInActive() ? (idx + 1) % this.#scans.length : 0;
        void this.#feed(scan.queue, next.id, next.flags)
          .catch((e: unknown) => msg.warn(`${next.id}: ${why(e)}`))
          .finally(() => {
            this.#feeding.delete(next.id);
            this.#pump();
          });
      }
      if (!fed) return;
    }
  }

  async #feed(queue: string, id: string, flags: ScanFlags): Promise<void> {
    const from = queueFilePath(this.layout, queue, id);
    let mtime: number;
    let forced: boolean;
    try {
      const st = statSync(from, { throwIfNoEntry: false });
      if (st === undefined) return;
      mtime = Math.floor(st.mtimeMs / 1000);
      forced = (st.mode & EXPIRE_MODE_BIT) !== 0;
    } catch {
      return;
    }
    // Deferred files carry their next attempt time; files from the future cool down.
    if (!flags.all && mtime > Math.floor(Date.now() / 1000) + 1) return;
    try {
      // No directory sync: a rename lost in a crash leaves the file where it
      // was, and active/ goes back to incoming/ at start-up (docs/qmgr.md).
      await moveQueueFile(this.layout, queue, 'active', id, { sync: false });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        msg.warn(`${id}: rename from ${queue} to active: ${why(e)}`);
      return;
    }
    const activeAt = nowMicros();
    const path = queueFilePath(this.layout, 'active', id);
    const opened = await openQueueFile(path, { write: true });
    if (!opened.ok) {
      if (opened.error.kind === 'missing') return;
      const reason = opened.error.message.startsWith(`${path}: `)
        ? opened.error.message.slice(path.length + 2)
        : opened.error.message;
      msg.warn(`${id}: message rejected: ${reason}`);
      await this.#corrupt(id);
      return;
    }
    const file = opened.file;
    const env = file.envelope;
    msg.info(queueActiveLine(id, env.sender, file.contentLength, file.size.rcptCount));
    // Force-expired (postsuper -e) with the reasons of an earlier attempt: returned as is.
    const deferLog = statSync(queueFilePath(this.layout, 'defer', id), { throwIfNoEntry: false });
    const keepDeferLog = forced && (deferLog?.size ?? 0) > 0;
    if (!keepDeferLog && deferLog !== undefined)
      await removeQueueFile(this.layout, 'defer', id).catch(() => false);
    const m = new ActiveMessage(
      id,
      env.sender,
      file.contentLength,
      env.arrival,
      env.attributes ?? {},
      env.dsnEnvid,
      env.dsnRet,
      file.warnTime,
      activeAt,
      flags,
    );
    m.forceExpire = forced;
    m.recordDone = queue !== 'incoming';
    this.#messages.set(id, m);
    try {
      if (keepDeferLog) m.deferred = true;
      else await this.#assign(m, file);
    } catch (e) {
      // Recipients not assigned stay to do: the message is tried again later.
      msg.warn(`${id}: ${why(e)}`);
      m.deferred = true;
    } finally {
      await file.close().catch(() => {});
    }
    if (m.refcount === 0) await this.#finish(m);
    else this.#dispatch();
  }

  async #corrupt(id: string): Promise<void> {
    try {
      await moveQueueFile(this.layout, 'active', 'corrupt', id);
      msg.warn(`saving corrupt file "${id}" from queue "active" to queue "corrupt"`);
    } catch (e) {
      msg.warn(`${id}: save corrupt file queue active: ${why(e)}`);
    }
  }

  /** Resolve every pending recipient and queue it, or record what qmgr decides itself. */
  async #assign(m: ActiveMessage, file: QueueFileReader): Promise<void> {
    const status = new RecipientStatus(this.cfg, { queue_id: m.id, flags: m.traceFlags }, file, m.stats);
    const groups = new Map<string, Group>();
    const filter = m.contentFilter;
    for (const r of file.pending) {
      // Force-expired without a defer log: retry writes one with this reason (Postfix).
      if (m.forceExpire) {
        await this.#place(
          m,
          status,
          groups,
          deliverRecipient(r),
          'retry',
          '4.7.0 message is administratively expired',
        );
        continue;
      }
      let res: Resolved;
      try {
        res =
          filter === null
            ? await this.#resolver.resolve(m.sender, r.address)
            : filtered(this.cfg, filter, r.address);
      } catch (e) {
        msg.warn(`${m.id}: resolve ${r.address}: ${why(e)}`);
        res = { transport: '', nexthop: '', recipient: r.address, flags: RESOLVE_FLAG_FAIL, defer: false };
      }
      // As Postfix, what qmgr refuses goes to the retry or error agent, the reason as nexthop.
      if (res.flags & RESOLVE_FLAG_FAIL) {
        await this.#place(m, status, groups, deliverRecipient(r), 'retry', '4.3.0 address resolver failure');
        continue;
      }
      if (res.flags & RESOLVE_FLAG_ERROR) {
        await this.#place(m, status, groups, deliverRecipient(r), 'error', '5.1.3 bad address syntax');
        continue;
      }
      const rcpt = deliverRecipient(r, res.recipient);
      if (res.flags & RESOLVE_CLASS_LOCAL && isDoubleBounce(res.recipient, this.params.doubleBounceSender)) {
        await this.#record(m, status, 'sent', rcpt, '2.0.0 undeliverable postmaster notification discarded');
        continue;
      }
      if (res.defer && !m.flags.dfxp) {
        await this.#place(m, status, groups, rcpt, 'retry', '4.3.2 deferred transport');
        continue;
      }
      await this.#place(m, status, groups, rcpt, res.transport, res.nexthop);
    }
    for (const g of groups.values()) {
      const limit = g.transport.limits.recipientLimit;
      const step = limit > 0 ? limit : g.rcpts.length;
      for (let i = 0; i < g.rcpts.length; i += step) {
        this.#enqueue(m, g.transport, g.queue, g.nexthop, g.rcpts.slice(i, i + step));
        m.refcount++;
      }
    }
  }

  /**
   * Put a recipient with its transport and destination. A transport that is
   * down hands it to retry with its reason; when retry is down too, qmgr
   * defers it itself (relay=none), as Postfix's qmgr_defer_recipient.
   */
  async #place(
    m: ActiveMessage,
    status: RecipientStatus,
    groups: Map<string, Group>,
    rcpt: DeliverRecipient,
    transport: string,
    nexthop: string,
  ): Promise<void> {
    let t = this.#transport(transport);
    let hop = nexthop;
    let queue = queueName(t, hop, rcpt.address, this.params.recipientDelimiter);
    const q = t.queues.get(queue);
    const dsn = t.dead ? t.dsn : q?.dead ? q.dsn : null;
    if (dsn !== null) {
      const retry = this.#transport('retry');
      if (t === retry || retry.dead) {
        await this.#record(m, status, 'defer', rcpt, dsn);
        return;
      }
      hop = dsn;
      t = retry;
      queue = queueName(t, hop, rcpt.address, this.params.recipientDelimiter);
    }
    const key = `${t.name}\0${queue}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { transport: t, queue, nexthop: hop, rcpts: [] };
      groups.set(key, g);
    }
    g.rcpts.push(rcpt);
  }

  #enqueue(m: ActiveMessage, t: Transport, queue: string, nexthop: string, rcpts: DeliverRecipient[]): void {
    const q = t.queue(queue, nexthop);
    q.todo.push({
      message: m,
      queue: q,
      recipients: rcpts,
      request: () => deliverRequest(m, t.name, q.nexthop, rcpts),
    });
    m.recipients += rcpts.length;
    this.#inCoreRecipients += rcpts.length;
    this.#clogCheck(t, q);
  }

  /** Postfix's helpful warnings when one destination fills the active queue. */
  #clogCheck(t: Transport, q: DestQueue): void {
    const every = this.params.clogWarnTime;
    const length = q.todo.length + q.busy;
    if (every <= 0 || !clogged(length, this.params.activeLimit) || Date.now() < q.clogWarnAt) return;
    const lines = clogWarnings({
      nexthop: q.nexthop,
      transport: t.name,
      queueLength: length,
      busy: q.busy,
      window: q.window,
      messages: this.#messages.size,
      activeLimit: this.params.activeLimit,
      concurrencyLimit: t.limits.concurrencyLimit,
      sharedTransport: t.queues.size > 1,
    });
    for (const l of lines) msg.warn(l);
    q.clogWarnAt = Date.now() + every * 1000;
  }

  #transport(name: string): Transport {
    let t = this.#transports.get(name);
    if (t === undefined) {
      t = new Transport(
        name,
        servicePath(this.cfg, 'private', name),
        transportLimits(this.cfg, name),
        this.params.deliveryTimeout * 1000,
        () => this.#dispatch(),
      );
      this.#transports.set(name, t);
    }
    return t;
  }

  /** An outcome qmgr decides itself (dsn: "4.3.0 text"); the message is deferred unless it really happened. */
  async #record(
    m: ActiveMessage,
    status: RecipientStatus,
    what: 'sent' | 'bounce' | 'defer',
    r: DeliverRecipient,
    dsn: string,
  ): Promise<void> {
    const sp = dsn.indexOf(' ');
    const d: DsnDetail = { status: dsn.slice(0, sp), reason: dsn.slice(sp + 1), relay: NONE };
    try {
      const outcome = await status[what](r, d);
      if (outcome === 'deferred') m.deferred = true;
    } catch (e) {
      msg.warn(`${m.id}: ${r.address}: ${why(e)}`);
      m.deferred = true;
    }
  }

  /** Send every entry the limits allow now. */
  #dispatch(): void {
    if (this.#stopping) return;
    for (const t of this.#transports.values()) {
      for (let e = t.select(); e !== null; e = t.select()) {
        const entry = e;
        void t.send(entry).then((res) => this.#settled(t, entry, res));
      }
    }
  }

  async #settled(t: Transport, e: Entry, res: DeliveryResult): Promise<void> {
    // Stopping closes the connections: what was in flight stays in active/ for the next start.
    if (this.#stopping) return;
    const m = e.message;
    let moved = false;
    try {
      moved = await this.#outcome(t, e, res);
    } finally {
      // After the feedback, so a destination just suspended is remembered.
      t.finished(e);
    }
    if (moved) this.#pump();
    else await this.#release(m, e, e.recipients.length);
  }

  /** What a delivery's result means; true when the entry moved to retry. */
  async #outcome(t: Transport, e: Entry, res: DeliveryResult): Promise<boolean> {
    const m = e.message;
    let moved = false;
    try {
      if (res.kind === 'reply') {
        await this.#replied(m, e, res.reply);
      } else if (res.kind === 'unavailable') {
        if (!t.dead) msg.warn(`connect to transport private/${t.name}: ${res.why}`);
        moved = await this.#failed(t, e, '4.3.0 mail transport unavailable');
      } else {
        msg.warn(
          `transport ${t.name} failure -- see a previous warning/fatal/panic logfile record for the problem description`,
        );
        moved = await this.#failed(t, e, '4.3.0 unknown mail transport error');
      }
    } catch (err) {
      msg.warn(`${m.id}: ${why(err)}`);
      m.deferred = true;
    }
    return moved;
  }

  async #replied(m: ActiveMessage, e: Entry, reply: DeliverReply): Promise<void> {
    const outcomes = new Map(reply.results.map((x) => [x.offset, x.outcome]));
    const missing: DeliverRecipient[] = [];
    for (const r of e.recipients) {
      const o = outcomes.get(r.offset);
      if (o === undefined) missing.push(r);
      else if (o === 'deferred') m.deferred = true;
    }
    const site = reply.destination;
    if (site !== undefined) {
      // Postfix's words: the reason the waiting recipients of a dead destination are given.
      const code = /^4\.\d{1,3}\.\d{1,3}$/.test(site.status) ? site.status : '4.0.0';
      const dsn = `${code} delivery temporarily suspended: ${site.reason || 'unknown error'}`;
      if (!e.queue.dead && e.queue.negativeFeedback(dsn, this.params.minBackoff * 1000))
        await this.#divert(e.queue.transport.drain(e.queue), dsn, null);
    } else if (reply.status === 0) {
      e.queue.positiveFeedback();
    }
    if (missing.length === 0) return;
    const text = reply.reason ?? '4.3.0 delivery agent error';
    await this.#deferStill(m, missing, /^[245]\.\d{1,3}\.\d{1,3} /.test(text) ? text : `4.3.0 ${text}`);
  }

  /**
   * A transport that cannot be reached, or whose agent broke off: throttle
   * it for $transport_retry_time and hand this request and everything
   * waiting for it to retry, with the reason (Postfix's qmgr_defer_transport).
   */
  async #failed(t: Transport, e: Entry, dsn: string): Promise<boolean> {
    t.deadUntil = Date.now() + this.params.transportRetryTime * 1000;
    t.dsn = dsn;
    return this.#divert([e, ...t.drain()], dsn, e);
  }

  /**
   * Hand entries to retry with `dsn` as its nexthop (Postfix's
   * qmgr_defer_todo); only recipients still to do go. When retry is down
   * (or these are retry's own), qmgr defers them itself. `current` is the
   * entry the caller will release unless it moved: true when it did.
   */
  async #divert(entries: readonly Entry[], dsn: string, current: Entry | null): Promise<boolean> {
    const retry = this.#transport('retry');
    let moved = false;
    for (const x of entries) {
      const todo = await this.#stillToDo(x.message, x.recipients);
      if (x.queue.transport === retry || retry.dead || todo.length === 0) {
        await this.#deferStill(x.message, todo, dsn);
        if (x !== current) await this.#release(x.message, x, x.recipients.length);
        continue;
      }
      // The entry moves to retry, its share of the message's refcount with it.
      this.#inCoreRecipients -= x.recipients.length;
      this.#enqueue(x.message, retry, queueName(retry, dsn, '', ''), dsn, todo);
      if (x === current) moved = true;
    }
    this.#dispatch();
    return moved;
  }

  /** Those of `rcpts` still to do in the queue file: an agent may have finished some before it failed. */
  async #stillToDo(m: ActiveMessage, rcpts: readonly DeliverRecipient[]): Promise<DeliverRecipient[]> {
    const r = await openQueueFile(queueFilePath(this.layout, 'active', m.id));
    if (!r.ok) return [];
    try {
      const todo = new Set(r.file.pending.map((x) => x.offset));
      return rcpts.filter((x) => todo.has(x.offset));
    } finally {
      await r.file.close();
    }
  }

  /** qmgr defers recipients itself (relay=none); only those still to do get an outcome. */
  async #deferStill(m: ActiveMessage, rcpts: readonly DeliverRecipient[], dsn: string): Promise<void> {
    m.deferred = true;
    const todo = await this.#stillToDo(m, rcpts);
    const status = new RecipientStatus(this.cfg, { queue_id: m.id, flags: m.traceFlags }, null, m.stats);
    for (const rc of todo) await this.#record(m, status, 'defer', rc, dsn);
  }

  async #release(m: ActiveMessage, _e: Entry, n: number): Promise<void> {
    this.#inCoreRecipients -= n;
    if (--m.refcount === 0) await this.#finish(m);
    else this.#pump();
  }

  async #finish(m: ActiveMessage): Promise<void> {
    try {
      await messageDone({ cfg: this.cfg, layout: this.layout, params: this.params }, m);
    } catch (e) {
      msg.warn(`${m.id}: ${why(e)}`);
    } finally {
      this.#messages.delete(m.id);
      this.#pump();
    }
  }
}
