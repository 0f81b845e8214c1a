/*
 * pickup - move messages from maildrop/ into the queue through cleanup
 *
 * Pickup.scan() lists maildrop/ and hands each file to cleanup over the
 * cleanup stream, a few at a time (MAX_PARALLEL). A file is removed only
 * when cleanup took the message (status 0: queued, or refused and
 * returned to its sender, which pickup asks for with CLEANUP_FLAG_BOUNCE)
 * or refused it for good; when cleanup cannot be reached or answers with
 * a temporary error the file stays for the next trigger. A file that is
 * not a readable queue file (torn, damaged, not ours) is reported and
 * removed, as Postfix's pickup does with bad maildrop files ("uid=N:
 * unexpected or malformed record type -1" for a file that ends early, the
 * reason with the file name and "... type -2" for a damaged one).
 *
 * Only what a local user cannot forge goes to cleanup: the envelope, the
 * content, the full name and encoding; the origin is the file owner's
 * uid and the rewrite context is local. A file that $mail_owner owns (a
 * queue file put back by postsuper -r) keeps all its attributes, and its
 * log_ident is logged as orig_id, as Postfix's pickup does. Recipients
 * already done are not sent again. Scans never overlap: a trigger
 * during a scan asks for one more scan after it.
 *
 * Cost: during a scan each of the MAX_PARALLEL lanes sends its messages
 * over one cleanup connection, one after the other (no connect per
 * message). The connections outlive the scan by KEEP_IDLE_MS: when mail
 * trickles in (one sendmail trigger, one scan, one message) the next
 * scan reuses them instead of connecting again; an idle pickup holds
 * none, and a stopping pickup closes them at once (cleanup, told to stop
 * at a reload, exits once its clients are gone). maildrop is listed and
 * its small local files looked at and removed with synchronous calls.
 */
import { statSync, unlinkSync } from 'node:fs';
import {
  CLEANUP_FLAG,
  CLEANUP_STAT,
  CleanupClient,
  type CleanupConnection,
  CleanupUnavailable,
  receiveOverrides,
} from '../global/cleanup_client.js';
import type { MainConfig } from '../global/config.js';
import { DEL_REQ_FLAG } from '../global/deliver_request.js';
import { pickupLine } from '../global/log_format.js';
import { msg } from '../global/msg.js';
import { listQueue, type QueueLayout } from '../global/queue_dirs.js';
import { QueueFileError } from '../global/queue_file.js';
import { openQueueFile, type QueueFileReader } from '../global/queue_file_reader.js';
import { getpwnam } from '../master/master_user.js';

const MAX_PARALLEL = 4;
/** How long cleanup connections stay open after a scan, for the next one. */
const KEEP_IDLE_MS = 1000;
/**
 * Attributes a maildrop file may pass on; anything else (client_address...)
 * would be forged. trace_flags is sendmail -bv/-v asking for a report
 * (docs/verify.md): only those two bits pass.
 */
const PASSED_ATTRS = ['full_name', 'encoding', 'trace_flags'];
const TRACE_BITS = DEL_REQ_FLAG.VERIFY | DEL_REQ_FLAG.RECORD;
const TEMP_STAT = CLEANUP_STAT.DEFER | CLEANUP_STAT.WRITE | CLEANUP_STAT.PROXY;

type Outcome = 'done' | 'keep';

export class Pickup {
  #running: Promise<void> | undefined;
  #again = false;
  readonly #busy = new Set<string>();
  #owner: number | undefined | null = null;
  /** Cleanup connections free for the next message of this scan. */
  #conns: CleanupConnection[] = [];
  #idleTimer: NodeJS.Timeout | undefined;
  #halted = false;

  constructor(
    readonly cfg: MainConfig,
    readonly layout: QueueLayout,
  ) {}

  /** Scan maildrop now, or once more after the scan in progress. */
  scan(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#scanOnce();
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stop early (the service is told to stop): the scan in progress ends after the files in hand. */
  halt(): void {
    this.#halted = true;
    this.#again = false;
    if (this.#running === undefined) this.#closeConns();
  }

  /** Resolves when no scan is running. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #scanOnce(): Promise<void> {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const inFlight = new Set<Promise<void>>();
    let unavailable = false;
    try {
      for (const { id, path } of listQueue(this.layout, 'maildrop')) {
        if (unavailable || this.#halted) break;
        if (this.#busy.has(path)) continue;
        this.#busy.add(path);
        const p = this.#one(id, path)
          .then((o) => {
            if (o === 'keep') unavailable = true;
          })
          .catch((e: unknown) => msg.warn(`maildrop/${id}: ${(e as Error).message}`))
          .finally(() => {
            this.#busy.delete(path);
            inFlight.delete(p);
          });
        inFlight.add(p);
        if (inFlight.size >= MAX_PARALLEL) await Promise.race(inFlight);
      }
    } catch (e) {
      msg.warn(`scan ${this.layout.directory}/maildrop: ${(e as Error).message}`);
    }
    await Promise.all(inFlight);
    if (this.#halted || unavailable) this.#closeConns();
    else {
      this.#idleTimer = setTimeout(() => this.#closeConns(), KEEP_IDLE_MS);
      this.#idleTimer.unref();
    }
  }

  #closeConns(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    for (const c of this.#conns.splice(0)) c.close();
  }

  /** One maildrop file; 'keep' when cleanup could not take it now. */
  async #one(id: string, path: string): Promise<Outcome> {
    let uid: number;
    try {
      uid = statSync(path).uid;
    } catch {
      return 'done'; // gone meanwhile (another pickup, postsuper)
    }
    const opened = await openQueueFile(path);
    if (!opened.ok) {
      if (opened.error.kind === 'missing') return 'done';
      // Postfix's words: the reason (damaged), then "unexpected or malformed record
      // type" with its pseudo type, -1 for a file that ends early, -2 for a bad record.
      const torn = opened.error.kind === 'incomplete';
      if (!torn) msg.warn(`maildrop/${id}: ${opened.error.message.slice(path.length + 2)}`);
      msg.warn(`uid=${uid}: unexpected or malformed record type ${torn ? -1 : -2}`);
      await this.#remove(path);
      return 'done';
    }
    const file = opened.file;
    try {
      let status: number | null;
      try {
        status = await this.#submit(file, uid);
      } catch (e) {
        // Damage found past the envelope (the content is read as it is sent).
        if (!(e instanceof QueueFileError)) throw e;
        msg.warn(`maildrop/${id}: ${e.message.slice(path.length + 2)}`);
        msg.warn(`uid=${uid}: unexpected or malformed record type ${e.kind === 'incomplete' ? -1 : -2}`);
        await this.#remove(path);
        return 'done';
      }
      if (status === null) return 'keep';
      if (status === 0 || !(status & TEMP_STAT)) {
        await this.#remove(path);
        return 'done';
      }
      return 'keep';
    } finally {
      // Removed while open, then closed: the close frees the file, in the thread
      // pool (a synchronous unlink of a closed file blocked pickup on the journal).
      await file.close().catch(() => {});
    }
  }

  /** Send one file to cleanup; its status, or null when cleanup is not there. */
  async #submit(file: QueueFileReader, uid: number): Promise<number | null> {
    const env = file.envelope;
    const attrs: Record<string, string> = { rewrite_context: 'local' };
    // As Postfix's receiving daemons do, pickup names its own content_filter
    // (main.cf or master.cf -o); a requeued file's own filter, below, wins.
    const filter = this.cfg.get('content_filter');
    if (filter !== '') attrs.content_filter = filter;
    // A file of $mail_owner's is a queue file put back by postsuper -r: as Postfix's
    // pickup, keep all it says (client, helo, protocol, rewrite context, log_ident...).
    const trusted = uid === this.#ownerUid();
    if (trusted) Object.assign(attrs, file.attributes);
    else
      for (const name of PASSED_ATTRS) {
        const v = file.attributes[name];
        if (v === undefined) continue;
        if (name !== 'trace_flags') attrs[name] = v;
        else if (/^\d{1,9}$/.test(v) && (Number(v) & TRACE_BITS) !== 0)
          attrs[name] = String(Number(v) & TRACE_BITS);
      }
    attrs.origin = `uid=${uid}`;
    const origId = trusted ? file.attributes.log_ident : undefined;
    const xtra = file.size.xtraOffset;
    const flags = receiveOverrides(this.cfg, CLEANUP_FLAG.MASK_EXTERNAL | CLEANUP_FLAG.BOUNCE);
    let c: CleanupClient | undefined;
    try {
      c = await CleanupClient.open(this.cfg, flags, { keep: true, conn: this.#conns.pop() });
      msg.info(pickupLine(c.queueId, uid, env.sender, origId));
      await c.envelope({
        arrival: env.arrival,
        sender: env.sender,
        recipients: file.recipients.filter((r) => !r.done && r.offset < xtra).map(plain),
        attributes: attrs,
        ...(env.dsnEnvid === undefined ? {} : { dsnEnvid: env.dsnEnvid }),
        ...(env.dsnRet === undefined ? {} : { dsnRet: env.dsnRet }),
      });
      for await (const chunk of file.contentBytes()) await c.content(chunk);
      for (const r of file.recipients) if (!r.done && r.offset > xtra) await c.extracted(plain(r));
      const res = await c.finish();
      this.#conns.push(c.connection);
      if (res.status !== 0 && res.status & TEMP_STAT)
        msg.warn(`${res.queueId}: cleanup: ${res.reason} -- will try again`);
      else if (res.status !== 0) msg.warn(`${res.queueId}: ${res.reason} -- message removed`);
      return res.status;
    } catch (e) {
      c?.abort();
      if (e instanceof CleanupUnavailable) {
        msg.warn(`${e.message} -- will try again`);
        return null;
      }
      throw e;
    }
  }

  /** $mail_owner's uid, looked up once (undefined: no such account). */
  #ownerUid(): number | undefined {
    if (this.#owner === null) this.#owner = getpwnam(this.cfg.get('mail_owner'))?.uid;
    return this.#owner;
  }

  async #remove(path: string): Promise<void> {
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') msg.warn(`remove ${path}: ${(e as Error).message}`);
    }
  }
}

function plain(r: { address: string; orig?: string; dsnOrcpt?: string; dsnNotify?: number }): {
  address: string;
  orig?: string;
  dsnOrcpt?: string;
  dsnNotify?: number;
} {
  return {
    address: r.address,
    ...(r.orig === undefined ? {} : { orig: r.orig }),
    ...(r.dsnOrcpt === undefined ? {} : { dsnOrcpt: r.dsnOrcpt }),
    ...(r.dsnNotify === undefined ? {} : { dsnNotify: r.dsnNotify }),
  };
}
