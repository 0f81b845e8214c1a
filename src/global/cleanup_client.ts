/*
 * cleanup_client - hand a message to the cleanup service (pickup, smtpd,
 * bounce notices)
 *
 *   const c = await CleanupClient.open(cfg, CLEANUP_FLAG.MASK_EXTERNAL);
 *   c.queueId                                   // for "ID: client=..." lines
 *   await c.envelope({ arrival, sender, recipients, attributes });
 *   await c.content(chunk); ...                 // raw bytes, LF line ends
 *   await c.extracted(rcpt);                    // optional (sendmail -t)
 *   const r = await c.finish();                 // { status, reason, queueId }
 *
 * The stream is the one in docs/daemons.md ("The cleanup stream"). status
 * 0 arrives only once the queue file is committed (synced, named, directory
 * synced): then the caller may acknowledge the message. Any failure to
 * reach or talk to cleanup throws CleanupUnavailable: the caller keeps the
 * message (maildrop file, or a 4XX reply) and tries again.
 *
 * A client with many messages (pickup) may send them one after the other
 * over one connection: `CleanupClient.open(cfg, flags, { keep: true, conn })`
 * per message, `conn` being the previous message's `client.connection`;
 * finish() then leaves the connection open for the next one (close() it
 * when done; after a failure it is unusable, see `conn.usable`). Records are buffered and
 * sent in pieces of up to 64 KiB: a small message travels in one write.
 */

import { connect, type Socket } from 'node:net';
import type { MainConfig } from './config.js';
import { msg } from './msg.js';
import {
  encodeRecord,
  type QueueEnvelope,
  type QueueRecipient,
  REC,
  recipientRecords,
} from './queue_file.js';
import { readRecords, type StreamRecord, writeEncoded } from './record_stream.js';

/** Record type of the flags record that opens the stream (not used in queue files). */
export const REC_CLEANUP_FLAGS = 0x46; // F

/** CLEANUP_FLAG_*: what cleanup applies to this message (Postfix's bit values). */
export const CLEANUP_FLAG = Object.freeze({
  NONE: 0,
  /** Reject by bouncing to the sender instead of reporting to the client. */
  BOUNCE: 1 << 0,
  /** header_checks, body_checks and friends. */
  FILTER: 1 << 1,
  /** Put the message on hold. */
  HOLD: 1 << 2,
  /** Discard the message. */
  DISCARD: 1 << 3,
  /** always_bcc, sender_bcc_maps, recipient_bcc_maps. */
  BCC_OK: 1 << 4,
  /** canonical, masquerade, virtual alias mapping. */
  MAP_OK: 1 << 5,
  /** Milter inspection (a later issue). */
  MILTER: 1 << 6,
  /** Reply with SMTP-style text (smtpd). */
  SMTP_REPLY: 1 << 7,
  /** What external sources (smtpd, pickup) get before receive_override_options. */
  MASK_EXTERNAL: (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6),
});

/** CLEANUP_STAT_*: why cleanup did not take a message (bits; 0 = taken). */
export const CLEANUP_STAT = Object.freeze({
  OK: 0,
  /** Protocol error, a record that makes no sense. */
  BAD: 1 << 0,
  /** Error writing the queue file. */
  WRITE: 1 << 1,
  /** message_size_limit exceeded. */
  SIZE: 1 << 2,
  /** Content rejected (header/body checks). */
  CONT: 1 << 3,
  /** hopcount_limit exceeded. */
  HOPS: 1 << 4,
  /** No recipients. */
  RCPT: 1 << 5,
  /** Before-queue filter rejected it. */
  PROXY: 1 << 6,
  /** A table lookup failed for now: try again later. */
  DEFER: 1 << 8,
});

/** receive_override_options applied to a client's flags, as Postfix's input_transp_cleanup(). */
export function receiveOverrides(cfg: MainConfig, flags: number): number {
  let f = flags;
  for (const opt of cfg.list('receive_override_options')) {
    if (opt === 'no_header_body_checks') f &= ~CLEANUP_FLAG.FILTER;
    else if (opt === 'no_address_mappings') f &= ~(CLEANUP_FLAG.MAP_OK | CLEANUP_FLAG.BCC_OK);
    else if (opt === 'no_milters') f &= ~CLEANUP_FLAG.MILTER;
  }
  return f;
}

export class CleanupUnavailable extends Error {
  override name = 'CleanupUnavailable';
}

export interface CleanupResult {
  readonly status: number;
  /** Empty when status is 0; otherwise "5.7.1 message content rejected"-style text. */
  readonly reason: string;
  readonly queueId: string;
}

const CONTENT_PIECE = 64 * 1024;

/** One connection to cleanup, for one message or several in turn. */
export class CleanupConnection {
  private constructor(
    readonly path: string,
    readonly sock: Socket,
    readonly replies: AsyncGenerator<StreamRecord>,
  ) {}

  /** Connect to $queue_directory/public/$cleanup_service_name. */
  static async connect(cfg: MainConfig): Promise<CleanupConnection> {
    const path = `${cfg.get('queue_directory')}/public/${cfg.get('cleanup_service_name')}`;
    const sock = connect(path);
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
    } catch (e) {
      sock.destroy();
      throw new CleanupUnavailable(`connect to ${path}: ${(e as Error).message}`);
    }
    sock.on('error', () => {});
    return new CleanupConnection(path, sock, readRecords(sock));
  }

  /** Still good for another message. */
  get usable(): boolean {
    return !this.sock.destroyed && !this.sock.writableEnded;
  }

  /** No more messages: cleanup sees the end of the stream. */
  close(): void {
    this.sock.end();
  }
}

export class CleanupClient {
  #extracting = false;
  #contentStarted = false;
  #pending: Buffer[] = [];
  #pendingLen = 0;

  private constructor(
    private readonly conn: CleanupConnection,
    /** The connection was the caller's: finish() leaves it open. */
    private readonly shared: boolean,
    readonly queueId: string,
  ) {}

  private get sock(): Socket {
    return this.conn.sock;
  }

  /** The connection the message went over (open() may have replaced a dead one). */
  get connection(): CleanupConnection {
    return this.conn;
  }

  /**
   * Open a message on a connection of its own, or with `keep` on one that
   * finish() leaves open (`client.connection`) for the next message:
   * `conn` when given and still good. A reused connection that cleanup
   * closed meanwhile (idle exit, restart) is replaced by a fresh one.
   */
  static async open(
    cfg: MainConfig,
    flags: number,
    opts: { readonly keep?: boolean; readonly conn?: CleanupConnection | undefined } = {},
  ): Promise<CleanupClient> {
    const keep = opts.keep === true;
    const conn = opts.conn;
    if (keep && conn?.usable) {
      try {
        return await CleanupClient.#begin(conn, flags, true);
      } catch {
        // Nothing was said on the old connection yet: start over on a new one.
      }
    }
    return CleanupClient.#begin(await CleanupConnection.connect(cfg), flags, keep);
  }

  static async #begin(conn: CleanupConnection, flags: number, shared: boolean): Promise<CleanupClient> {
    try {
      await writeEncoded(conn.sock, encodeRecord(REC_CLEANUP_FLAGS, String(flags)));
      const first = await conn.replies.next();
      const id = first.done ? undefined : attr(first.value, 'queue_id');
      if (id === undefined) throw new Error('no queue ID from cleanup');
      return new CleanupClient(conn, shared, id);
    } catch (e) {
      conn.sock.destroy();
      throw new CleanupUnavailable(`${conn.path}: ${(e as Error).message}`);
    }
  }

  /** Everything before the content, in queue file order. */
  async envelope(env: QueueEnvelope): Promise<void> {
    await this.#put(REC.TIME, `${env.arrival.sec} ${env.arrival.usec}`);
    for (const [name, value] of Object.entries(env.attributes ?? {}))
      await this.#put(REC.ATTR, `${name}=${value}`);
    if (env.dsnEnvid !== undefined) await this.#put(REC.DSN_ENVID, env.dsnEnvid);
    if (env.dsnRet !== undefined) await this.#put(REC.DSN_RET, String(env.dsnRet));
    await this.#put(REC.FROM, env.sender);
    for (const r of env.recipients) await this.#recipient(r);
  }

  /** Message bytes (header and body, LF line ends), any chunking. */
  async content(chunk: Uint8Array): Promise<void> {
    await this.#startContent();
    for (let i = 0; i < chunk.length; i += CONTENT_PIECE)
      await this.#put(REC.CONT, chunk.subarray(i, Math.min(chunk.length, i + CONTENT_PIECE)));
  }

  /** A recipient found after the content (sendmail -t). */
  async extracted(r: QueueRecipient): Promise<void> {
    await this.#startExtracted();
    await this.#recipient(r);
  }

  /** End the message and wait for cleanup's verdict. */
  async finish(): Promise<CleanupResult> {
    let ok = false;
    try {
      await this.#startExtracted();
      await this.#put(REC.END, '');
      await this.#flush();
      let status: number | undefined;
      let reason = '';
      let queueId = this.queueId;
      for (;;) {
        const r = await this.conn.replies.next();
        if (r.done) throw new Error('cleanup closed the connection');
        if (r.value.type === REC.END) break;
        const text = r.value.data.toString('utf8');
        const eq = text.indexOf('=');
        const name = text.slice(0, eq);
        const value = text.slice(eq + 1);
        if (name === 'status') status = Number(value);
        else if (name === 'reason') reason = value;
        else if (name === 'queue_id') queueId = value;
      }
      if (status === undefined || !Number.isInteger(status)) throw new Error('no status from cleanup');
      ok = true;
      return { status, reason, queueId };
    } catch (e) {
      throw new CleanupUnavailable(`cleanup: ${(e as Error).message}`);
    } finally {
      if (!this.shared) this.sock.end();
      else if (!ok) this.sock.destroy();
    }
  }

  /** Give up on this message: cleanup discards what it got. */
  abort(): void {
    this.sock.destroy();
  }

  async #startContent(): Promise<void> {
    if (this.#contentStarted) return;
    this.#contentStarted = true;
    await this.#put(REC.MESG, '');
  }

  async #startExtracted(): Promise<void> {
    if (this.#extracting) return;
    await this.#startContent();
    this.#extracting = true;
    await this.#put(REC.XTRA, '');
  }

  async #recipient(r: QueueRecipient): Promise<void> {
    for (const [type, payload] of recipientRecords(r)) await this.#put(type, payload);
  }

  async #put(type: number, payload: Uint8Array | string): Promise<void> {
    const rec = encodeRecord(type, payload);
    this.#pending.push(rec);
    this.#pendingLen += rec.length;
    if (this.#pendingLen >= CONTENT_PIECE) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingLen === 0) return;
    const bytes =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingLen);
    this.#pending = [];
    this.#pendingLen = 0;
    try {
      await writeEncoded(this.sock, bytes);
    } catch (e) {
      msg.debug(`cleanup stream: ${(e as Error).message}`);
      throw new CleanupUnavailable(`cleanup: ${(e as Error).message}`);
    }
  }
}

function attr(rec: StreamRecord, name: string): string | undefined {
  if (rec.type !== REC.ATTR) return undefined;
  const text = rec.data.toString('utf8');
  return text.startsWith(`${name}=`) ? text.slice(name.length + 1) : undefined;
}
