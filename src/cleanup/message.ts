/*
 * message - one message through cleanup: the server side of the cleanup
 * stream (docs/daemons.md, "The cleanup stream")
 *
 * serveMessage() reads the F record, creates the queue file at once and
 * answers its queue ID; collects the envelope; streams the content through
 * the header/body checks (ContentChecks) and cleanup's own header rules
 * (Received: on top, missing Message-Id:/Date:/From:/To:, Bcc: removed,
 * hop count, message-id= log line); at E it maps and expands the
 * recipients, then commits the queue file (incoming, or hold) and only
 * then answers status 0 and wakes qmgr. A refused message is answered
 * with its CLEANUP_STAT bits and an SMTP-style reason, or, for a client
 * that asked for CLEANUP_FLAG_BOUNCE (pickup), returned to its sender.
 * A client that disconnects or sends garbage loses only its temporary
 * file: cleanup warns and serves the next client.
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { CLEANUP_FLAG, CLEANUP_STAT, REC_CLEANUP_FLAGS } from '../global/cleanup_client.js';
import type { MainConfig } from '../global/config.js';
import { DSN_RET_HDRS } from '../global/dsn.js';
import { msg } from '../global/msg.js';
import type { QueueLayout } from '../global/queue_dirs.js';
import { encodeRecord, type QueueRecipient, REC } from '../global/queue_file.js';
import { createQueueFile, type QueueFileWriter } from '../global/queue_file_writer.js';
import { readRecords, type StreamRecord, writeEncoded, writeRecord } from '../global/record_stream.js';
import { decodeBytes, encodeBytes } from '../maps/bytes.js';
import { servicePath, triggerPath } from '../master/trigger.js';
import { bounceToSender } from './bounce.js';
import { withoutHeaderBodyChecks } from './checks_config.js';
import { type ChecksConfig, ContentChecks, type ContentOutcome } from './checks_engine.js';
import { checkLogLine } from './checks_log.js';
import { BOUNCE_OK, statReason } from './cleanup_stat.js';
import { HeaderRules } from './header_rules.js';
import { type Mapper, openMapper } from './mapping.js';
import type { HeaderClass } from './mime_state.js';
import { finalRecipients } from './recipients.js';

/** What every message needs from the process: read once at start-up. */
export interface CleanupEnv {
  readonly cfg: MainConfig;
  readonly layout: QueueLayout;
  readonly checks: ChecksConfig;
  readonly messageSizeLimit: number;
  /** delay_warning_time in seconds (0: no delay warnings). */
  readonly delayWarning: number;
  /** ipc_timeout in milliseconds: a client silent that long is dropped. */
  readonly ipcTimeoutMs: number;
}

class ProtocolError extends Error {}

const LF = 0x0a;
const PERM_BITS = CLEANUP_STAT.SIZE | CLEANUP_STAT.HOPS | CLEANUP_STAT.CONT;
const TEMP_BITS = CLEANUP_STAT.DEFER | CLEANUP_STAT.WRITE | CLEANUP_STAT.BAD | CLEANUP_STAT.PROXY;

/**
 * Serve one client connection: one message, or several one after the
 * other (a client may send the next F record once it has the verdict).
 */
export async function serveMessage(sock: Socket, env: CleanupEnv): Promise<void> {
  sock.on('error', () => {});
  // A client that stops talking must not hold a temporary queue file forever.
  sock.setTimeout(env.ipcTimeoutMs, () => sock.destroy());
  const records = readRecords(sock);
  let m: CleanupMessage | undefined;
  let served = 0;
  try {
    for (;;) {
      m = undefined;
      let first: IteratorResult<StreamRecord>;
      try {
        first = await records.next();
      } catch (e) {
        // Between messages a kept connection may just go away (idle timeout, client gone).
        if (served === 0) throw e;
        sock.destroy();
        return;
      }
      if (first.done) {
        sock.end();
        return;
      }
      if (first.value.type !== REC_CLEANUP_FLAGS || !/^\d{1,10}$/.test(first.value.data.toString('latin1')))
        throw new ProtocolError(`unexpected record type ${first.value.type} at start of stream`);
      const flags = Number(first.value.data.toString('latin1'));
      let writer: QueueFileWriter;
      try {
        writer = await createQueueFile(env.layout);
      } catch (e) {
        msg.warn(`create queue file in ${env.layout.directory}/incoming: ${(e as Error).message}`);
        sock.destroy();
        return;
      }
      m = new CleanupMessage(env, flags, writer);
      await writeRecord(sock, REC.ATTR, `queue_id=${writer.queueId}`);
      for (;;) {
        const r = await records.next();
        if (r.done) throw new ProtocolError('unexpected EOF from client');
        if (await m.record(r.value)) break;
      }
      committing++;
      let result: MessageResult;
      try {
        result = await m.finish();
      } finally {
        committing--;
      }
      // The verdict in one write: one wake-up of the client, not four.
      await writeEncoded(
        sock,
        Buffer.concat([
          encodeRecord(REC.ATTR, `status=${result.status}`),
          encodeRecord(REC.ATTR, `reason=${result.reason}`),
          encodeRecord(REC.ATTR, `queue_id=${result.queueId}`),
          encodeRecord(REC.END, ''),
        ]),
      );
      served++;
      if (result.wakeQmgr) wakeQmgr(env.cfg);
      else sendWake(env.cfg, true); // a trigger owed for others may have waited for this one
    }
  } catch (e) {
    // The temporary file goes first: once the warning is out, nothing is left behind.
    await m?.abort();
    sock.destroy();
    const id = m ? `${m.queueId}: ` : '';
    msg.warn(
      `${id}${e instanceof ProtocolError ? '' : 'client stream: '}${(e as Error).message} -- message not accepted`,
    );
  }
}

/** Messages of this process between their E record and their verdict. */
let committing = 0;
/** qmgr is owed an 'A' trigger for a message already committed. */
let wakeOwed = false;
let waking = false;
let wakeTimer: NodeJS.Timeout | undefined;
let wakeSentAt = Number.NEGATIVE_INFINITY;
/** How long a trigger may wait for other messages' commits to end (load only). */
const WAKE_HOLD_MS = 5;
/** Triggers are at least this far apart: a busy cleanup wakes qmgr ~50 times a second at most. */
const WAKE_GAP_MS = 20;

/**
 * Tell qmgr there is new mail; say so, as Postfix does, when qmgr is not
 * there at all. Under load one trigger serves many messages: while other
 * messages of this process are committing, or a trigger is being sent,
 * the owed trigger waits for them (at most WAKE_HOLD_MS), and triggers
 * are at least WAKE_GAP_MS apart, so a burst of commits costs qmgr (and
 * master) one connection, not one each; mail that comes now and then is
 * announced at once. Every
 * commit is still followed by a trigger sent after it (a trigger is a
 * hint: qmgr scans incoming whole).
 */
function wakeQmgr(cfg: MainConfig): void {
  if (!existsSync(qmgrPath(cfg))) {
    msg.warn('unable to look up public/qmgr: No such file or directory');
    return;
  }
  wakeOwed = true;
  sendWake(cfg, true);
}

/** public/qmgr per configuration, worked out once (a configuration does not change; a reload starts new processes). */
const qmgrSockets = new WeakMap<MainConfig, string>();
function qmgrPath(cfg: MainConfig): string {
  let path = qmgrSockets.get(cfg);
  if (path === undefined) {
    path = servicePath(cfg, 'public', 'qmgr');
    qmgrSockets.set(cfg, path);
  }
  return path;
}

function sendWake(cfg: MainConfig, hold: boolean): void {
  if (!wakeOwed || waking) return;
  const wait = Math.max(hold && committing > 0 ? WAKE_HOLD_MS : 0, wakeSentAt + WAKE_GAP_MS - Date.now());
  if (wait > 0) {
    wakeTimer ??= setTimeout(() => {
      wakeTimer = undefined;
      sendWake(cfg, false);
    }, wait);
    return;
  }
  if (wakeTimer !== undefined) clearTimeout(wakeTimer);
  wakeTimer = undefined;
  wakeOwed = false;
  waking = true;
  wakeSentAt = Date.now();
  void triggerPath(qmgrPath(cfg), 'A').finally(() => {
    waking = false;
    sendWake(cfg, true);
  });
}

export interface MessageResult {
  readonly status: number;
  readonly reason: string;
  readonly queueId: string;
  readonly wakeQmgr: boolean;
}

type Phase = 'envelope' | 'content' | 'extracted' | 'done';

interface PendingRecipient {
  orig?: string;
  dsnOrcpt?: string;
  dsnNotify?: number;
}

type Output =
  | { kind: 'header'; cls: HeaderClass; text: string }
  | { kind: 'end' }
  | { kind: 'body'; text: string };

class CleanupMessage {
  #phase: Phase = 'envelope';
  #arrival = { sec: Math.floor(Date.now() / 1000), usec: (Date.now() % 1000) * 1000 };
  readonly #attrs: Record<string, string> = Object.create(null);
  #sender: string | undefined;
  #dsnEnvid: string | undefined;
  #dsnRet: number | undefined;
  readonly #rcpts: QueueRecipient[] = [];
  #pend: PendingRecipient = {};
  #errs = 0;
  #reason = '';
  /** The mapper's reply text for a temporary failure ("4.6.0 Alias expansion error"). */
  #tempReason: string | undefined;
  #bodyMark: { readonly offset: number; readonly length: number } | undefined;
  #contentBytes = 0;
  #line: Buffer[] = [];
  #lineLen = 0;
  #checks: ContentChecks | undefined;
  #outcome: ContentOutcome | undefined;
  #out: Output[] = [];
  #events = 0;
  #warnings = 0;
  #rules: HeaderRules | undefined;
  #mapper: Mapper | undefined;

  constructor(
    readonly env: CleanupEnv,
    readonly flags: number,
    readonly writer: QueueFileWriter,
  ) {}

  get queueId(): string {
    return this.writer.queueId;
  }

  /** One record from the client; true at the E record. */
  async record(r: StreamRecord): Promise<boolean> {
    const text = () => r.data.toString('utf8');
    switch (this.#phase) {
      case 'envelope':
        return this.#envelopeRecord(r, text);
      case 'content':
        if (r.type === REC.CONT || r.type === REC.NORM) {
          await this.#content(r.data, r.type === REC.NORM);
          return false;
        }
        if (r.type === REC.XTRA) {
          await this.#endContent();
          this.#phase = 'extracted';
          return false;
        }
        throw new ProtocolError(`unexpected record type ${r.type} in message content`);
      case 'extracted':
        if (this.#recipientRecord(r, text)) return false;
        if (r.type === REC.END) {
          this.#phase = 'done';
          return true;
        }
        throw new ProtocolError(`unexpected record type ${r.type} after message content`);
      default:
        throw new ProtocolError('record after end of message');
    }
  }

  async #envelopeRecord(r: StreamRecord, text: () => string): Promise<boolean> {
    if (this.#recipientRecord(r, text)) return false;
    switch (r.type) {
      case REC.TIME: {
        const m = /^(\d{1,15}) (\d{1,6})$/.exec(r.data.toString('latin1'));
        if (!m) throw new ProtocolError('bad arrival time record');
        this.#arrival = { sec: Number(m[1]), usec: Number(m[2]) };
        return false;
      }
      case REC.WARN:
        return false;
      case REC.ATTR: {
        const t = text();
        const eq = t.indexOf('=');
        if (eq <= 0) throw new ProtocolError('bad attribute record');
        this.#attrs[t.slice(0, eq)] = t.slice(eq + 1);
        return false;
      }
      case REC.DSN_ENVID:
        this.#dsnEnvid = text();
        return false;
      case REC.DSN_RET:
        this.#dsnRet = Number(r.data.toString('latin1')) || undefined;
        return false;
      case REC.FROM:
        if (this.#sender !== undefined) throw new ProtocolError('more than one sender record');
        this.#sender = text();
        return false;
      case REC.MESG:
        await this.#startContent();
        this.#phase = 'content';
        return false;
      default:
        throw new ProtocolError(`unexpected record type ${r.type} in envelope`);
    }
  }

  /** O o n R: one recipient group; true when the record was one of them. */
  #recipientRecord(r: StreamRecord, text: () => string): boolean {
    switch (r.type) {
      case REC.ORCP:
        this.#pend.orig = text();
        return true;
      case REC.DSN_ORCPT:
        this.#pend.dsnOrcpt = text();
        return true;
      case REC.DSN_NOTIFY:
        this.#pend.dsnNotify = Number(r.data.toString('latin1')) || 0;
        return true;
      case REC.RCPT:
        if (this.#rcpts.length === 0 && this.#phase !== 'envelope' && this.#sender === undefined)
          throw new ProtocolError('recipient before sender');
        this.#rcpts.push({ address: text(), ...this.#pend });
        this.#pend = {};
        return true;
      default:
        return false;
    }
  }

  get #context(): 'local' | 'remote' {
    return this.#attrs.rewrite_context === 'remote' ? 'remote' : 'local';
  }

  /** The envelope is complete: write it, then the Received: header. */
  async #startContent(): Promise<void> {
    if (this.#sender === undefined) throw new ProtocolError('no sender record before message content');
    const cfg = this.env.cfg;
    const context = this.#context;
    this.#mapper = await openMapper(cfg, {
      mapping: (this.flags & CLEANUP_FLAG.MAP_OK) !== 0,
      bcc: (this.flags & CLEANUP_FLAG.BCC_OK) !== 0,
      context,
      rewriteHeaders: context === 'local' || cfg.get('remote_header_rewrite_domain') !== '',
      queueId: this.writer.queueId,
    });
    const mapped = await this.#mapper.envelopeSender(this.#sender);
    if (mapped.ok) this.#sender = mapped.value;
    else this.#mapFailed(mapped);
    const warnDelay = this.env.delayWarning;
    const { origin: _origin, ...stored } = this.#attrs;
    await this.writer.envelope({
      arrival: this.#arrival,
      // No delay warnings about mail from the null sender (bounces), as Postfix.
      warnTime: warnDelay > 0 && this.#sender !== '' ? this.#arrival.sec + warnDelay : 0,
      sender: this.#sender,
      recipients: [],
      attributes: stored,
      ...(this.#dsnEnvid === undefined ? {} : { dsnEnvid: this.#dsnEnvid }),
      ...(this.#dsnRet === undefined ? {} : { dsnRet: this.#dsnRet }),
    });
    this.#rules = new HeaderRules({
      cfg,
      queueId: this.writer.queueId,
      arrival: new Date(this.#arrival.sec * 1000 + Math.floor(this.#arrival.usec / 1000)),
      sender: this.#sender,
      attrs: this.#attrs,
      recipients: this.#rcpts.map((r) => r.address),
      mapper: this.#mapper,
      onHops: () => {
        this.#errs |= CLEANUP_STAT.HOPS;
        msg.warn(`${this.queueId}: message rejected: hopcount exceeded`);
      },
    });
    // Without CLEANUP_FLAG_FILTER (bounce notices, forwarded mail, no_header_body_checks)
    // nothing is inspected: no tables, and MIME errors reject nothing (Postfix queues a
    // notice that returns an 8-bit header).
    const filter = (this.flags & CLEANUP_FLAG.FILTER) !== 0;
    const checks = filter ? this.env.checks : { ...withoutHeaderBodyChecks(this.env.checks), reportMask: 0 };
    this.#checks = new ContentChecks(checks, {
      header: (cls, text) => this.#out.push({ kind: 'header', cls, text }),
      primaryEnd: () => this.#out.push({ kind: 'end' }),
      body: (text) => this.#out.push({ kind: 'body', text }),
    });
    // Our Received: is the message's first header, inspected, counted and cut like the
    // others (Postfix's header_checks see it: recorded in test/golden/cleanup/tempfail).
    for (const line of this.#rules.received()) await this.#checks.line(line);
    await this.#drain();
  }

  /** Content bytes as the client cut them: find the lines. */
  async #content(data: Buffer, endsLine: boolean): Promise<void> {
    if (this.#errs & CLEANUP_STAT.SIZE) return;
    this.#contentBytes += data.length + (endsLine ? 1 : 0);
    const limit = this.env.messageSizeLimit;
    if (limit > 0 && this.#contentBytes > limit) {
      this.#errs |= CLEANUP_STAT.SIZE;
      this.#line = [];
      this.#lineLen = 0;
      return;
    }
    let start = 0;
    while (start < data.length) {
      const lf = data.indexOf(LF, start);
      if (lf < 0) {
        this.#line.push(data.subarray(start));
        this.#lineLen += data.length - start;
        break;
      }
      this.#line.push(data.subarray(start, lf));
      this.#lineLen += lf - start;
      await this.#endLine();
      start = lf + 1;
    }
    if (endsLine) await this.#endLine();
  }

  async #endLine(): Promise<void> {
    // Bytes that are not UTF-8 survive as lone surrogates (maps/bytes.ts), as table keys expect.
    const line = decodeBytes(Buffer.concat(this.#line, this.#lineLen));
    this.#line = [];
    this.#lineLen = 0;
    await this.#checks?.line(line);
    await this.#drain();
  }

  async #endContent(): Promise<void> {
    if (this.#lineLen > 0) await this.#endLine();
    if (this.#checks === undefined) return;
    this.#outcome = await this.#checks.end();
    await this.#drain();
  }

  /** Write what the checks let through, applying cleanup's own header rules. */
  async #drain(): Promise<void> {
    const outcome = this.#checks?.outcome;
    const rules = this.#rules;
    if (outcome === undefined || rules === undefined) return;
    this.#logChecks(outcome);
    const out = this.#out;
    this.#out = [];
    for (const o of out) {
      // A discarded message is of no further interest, not even its Message-ID; nor
      // is a refused one, unless it is to be returned to its sender (as Postfix).
      if (outcome.discard !== undefined) break;
      if (!(this.flags & CLEANUP_FLAG.BOUNCE) && (outcome.reject !== undefined || this.#errs & PERM_BITS))
        break;
      if (o.kind === 'end') {
        for (const line of rules.primaryEnd()) await this.#writeHeader(line);
        // Just after the headers: a message refused for its content is returned cut here.
        this.#bodyMark = this.writer.contentMark();
      } else if (o.kind === 'header') {
        const r = o.cls === 'primary' ? await rules.header(o.text) : { ok: true as const, text: o.text };
        if (!r.ok) this.#mapFailed(r);
        else if (r.text !== null) await this.#writeHeader(r.text);
      } else if (!this.#rejected(outcome)) {
        await this.#write(o.text);
      }
    }
  }

  /** After a reject, a discard or a size overflow the body is of no use. */
  #rejected(o: ContentOutcome): boolean {
    return o.reject !== undefined || o.discard !== undefined || (this.#errs & ~CLEANUP_STAT.DEFER) !== 0;
  }

  #logChecks(o: ContentOutcome): void {
    for (; this.#warnings < o.warnings.length; this.#warnings++)
      msg.warn(o.warnings[this.#warnings] as string);
    for (; this.#events < o.events.length; this.#events++) {
      const ev = o.events[this.#events]!;
      if (ev.context === 'mime-error') {
        // Postfix names the offending line: the header or body line just parsed.
        const where = this.#out.find((x) => x.kind !== 'end' && /[^\x00-\x7f]/.test(x.text)) ?? this.#out[0];
        const detail =
          where && where.kind !== 'end'
            ? `: ${where.text.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?')}`
            : '';
        msg.info(`${this.queueId}: reject: mime-error ${ev.line}${detail}${this.#logFrom()}`);
        continue;
      }
      const a = this.#attrs;
      const client = a.client_name && a.client_address ? `${a.client_name}[${a.client_address}]` : 'local';
      msg.info(
        checkLogLine(ev, {
          queueId: this.queueId,
          client,
          sender: this.#sender ?? '',
          ...(this.#lastRcpt() !== undefined ? { recipient: this.#lastRcpt() as string } : {}),
          ...(a.protocol_name ? { protocol: a.protocol_name } : {}),
          ...(a.helo_name ? { helo: a.helo_name } : {}),
        }),
      );
    }
  }

  /** Postfix's check log lines name the last recipient seen so far. */
  #lastRcpt(): string | undefined {
    return this.#rcpts.at(-1)?.address;
  }

  #logFrom(): string {
    const a = this.#attrs;
    const client = a.client_name && a.client_address ? `${a.client_name}[${a.client_address}]` : 'local';
    const last = this.#lastRcpt();
    const to = last !== undefined ? ` to=<${last}>` : '';
    return ` from ${client}; from=<${this.#sender ?? ''}>${to}`;
  }

  /** A table the mapper needed did not answer; it has logged why. */
  #mapFailed(r: { defer: string; stat?: number }): void {
    this.#errs |= r.stat ?? CLEANUP_STAT.DEFER;
    this.#tempReason ??= r.defer;
  }

  /** A header/body table did not answer: "queue file write error", as Postfix says. */
  #tableTrouble(text: string): void {
    if (!(this.#errs & CLEANUP_STAT.WRITE)) msg.warn(`${this.queueId}: ${text}`);
    this.#errs |= CLEANUP_STAT.WRITE;
  }

  /**
   * A header as stored: cut at header_size_limit bytes, as Postfix's cleanup
   * stores it (the lookup keys of header_checks are not cut inside a line).
   */
  async #writeHeader(text: string): Promise<void> {
    const bytes = encodeBytes(text);
    const limit = this.env.checks.limits.headerSizeLimit;
    await this.#writeBytes(bytes.length > limit ? bytes.subarray(0, limit) : bytes);
  }

  async #writeBytes(bytes: Buffer): Promise<void> {
    if (this.#errs & CLEANUP_STAT.WRITE) return;
    try {
      await this.writer.line(bytes);
    } catch (e) {
      msg.warn(`${this.queueId}: write queue file: ${(e as Error).message}`);
      this.#errs |= CLEANUP_STAT.WRITE;
    }
  }

  async #write(line: string): Promise<void> {
    await this.#writeBytes(encodeBytes(line));
  }

  /** E: decide, write the recipients, commit or refuse. */
  async finish(): Promise<MessageResult> {
    const o = this.#outcome as ContentOutcome;
    if (o.tempfail !== undefined) this.#tableTrouble(o.tempfail);
    if (o.reject !== undefined) {
      this.#errs |= CLEANUP_STAT.CONT;
      this.#reason = o.reject;
    }
    const refuse = (): MessageResult => {
      const reason =
        this.#errs === CLEANUP_STAT.CONT && this.#reason
          ? this.#reason
          : this.#errs & TEMP_BITS && this.#tempReason !== undefined
            ? this.#tempReason
            : statReason(this.#errs);
      return { status: this.#errs, reason, queueId: this.queueId, wakeQmgr: false };
    };
    if (o.discard !== undefined && !(this.#errs & TEMP_BITS)) {
      await this.abort();
      return { status: 0, reason: '', queueId: this.queueId, wakeQmgr: false };
    }
    const rcpts = await finalRecipients({
      cfg: this.env.cfg,
      mapper: this.#mapper as Mapper,
      sender: this.#sender as string,
      recipients: this.#rcpts,
      outcome: o,
    });
    if (!rcpts.ok) this.#mapFailed(rcpts);
    else if (rcpts.value.length === 0) this.#errs |= CLEANUP_STAT.RCPT;
    const list = rcpts.ok ? rcpts.value : [];
    const bounce =
      (this.flags & CLEANUP_FLAG.BOUNCE) !== 0 &&
      this.#errs !== 0 &&
      (this.#errs & ~BOUNCE_OK) === 0 &&
      list.length > 0;
    if (this.#errs !== 0 && !bounce) {
      await this.abort();
      return refuse();
    }
    try {
      // Postfix returns content-refused mail with its headers only (a hop count refusal whole).
      if (bounce && this.#errs & CLEANUP_STAT.CONT && this.#bodyMark)
        await this.writer.rewind(this.#bodyMark);
      for (const r of list) await this.writer.recipient(r);
      // The body's encoding as Postfix records it after the content: 8bit when a MIME
      // part declares 8bit/binary, else what the client said (sendmail -B, BODY=).
      const encoding = o.declared8bit ? '8bit' : this.#attrs.encoding;
      if (encoding === '8bit' || encoding === '7bit') await this.writer.attribute('encoding', encoding);
      if (o.filter !== undefined && !bounce) await this.writer.attribute('content_filter', o.filter);
      const hold = o.hold !== undefined || (this.flags & CLEANUP_FLAG.HOLD) !== 0;
      const queue = bounce || hold ? 'hold' : 'incoming';
      const id = await this.writer.commit({ queue });
      if (bounce) {
        const reason =
          this.#errs === CLEANUP_STAT.CONT && this.#reason ? this.#reason : statReason(this.#errs);
        const sent = await bounceToSender(this.env, {
          queueId: id,
          sender: this.#sender as string,
          arrival: this.#arrival,
          reason,
          ...(this.#dsnEnvid === undefined ? {} : { dsnEnvid: this.#dsnEnvid }),
          // Refused content (or an oversized body) is never sent back: headers only, as Postfix.
          ...(this.#errs & (CLEANUP_STAT.CONT | CLEANUP_STAT.SIZE)
            ? { dsnRet: DSN_RET_HDRS }
            : this.#dsnRet === undefined
              ? {}
              : { dsnRet: this.#dsnRet }),
        });
        if (!sent)
          return {
            status: CLEANUP_STAT.WRITE,
            reason: statReason(CLEANUP_STAT.WRITE),
            queueId: id,
            wakeQmgr: false,
          };
        return { status: 0, reason: '', queueId: id, wakeQmgr: false };
      }
      return { status: 0, reason: '', queueId: id, wakeQmgr: queue === 'incoming' };
    } catch (e) {
      msg.warn(`${this.queueId}: queue file: ${(e as Error).message}`);
      await this.abort();
      this.#errs |= CLEANUP_STAT.WRITE;
      return refuse();
    }
  }

  async abort(): Promise<void> {
    await this.writer.abort();
  }
}
