/*
 * log_file - the per-message bounce, defer and trace logs
 *
 * A log lives at $queue_directory/<bounce|defer|trace>/<queue ID> (hashed
 * as hash_queue_names says) and is a sequence of records: name=value
 * lines (recipient, orig_rcpt, offset, dsn_orig_rcpt, dsn_notify, status,
 * action, reason, relay, time), each record ended by an empty line; as
 * in Postfix's logs, orig_rcpt, dsn_orig_rcpt and dsn_notify are left out
 * when not known. showq reads recipient= and reason= from the defer log
 * (src/showq/listing.ts).
 *
 * Guarantees: a log is created mode 0600 and only ever appended to
 * (O_APPEND); append() resolves once the record is on disk (fdatasync).
 * Every operation on one log (append, read, remove) runs alone, in
 * arrival order, so concurrent appends never interleave and a notice
 * never misses a record appended before it was asked for. A record torn
 * by a crash stays alone: the next one starts after an empty line. Values are
 * kept on one line: CR and LF become spaces.
 */

import { closeSync, fdatasync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DsnAction } from '../global/dsn.js';
import { type QueueLayout, queueFilePath, syncQueueDir } from '../global/queue_dirs.js';

export type LogName = 'bounce' | 'defer' | 'trace';

/** One recipient's record, as stored. */
export interface LogRecord {
  readonly recipient: string;
  /** The address before rewriting; "" when not known. */
  readonly origRcpt: string;
  readonly offset: number;
  /** DSN ORCPT, "rfc822;addr"; "" when not given. */
  readonly dsnOrigRcpt: string;
  /** DSN NOTIFY bits; 0 when not given. */
  readonly dsnNotify: number;
  readonly status: string;
  readonly action: DsnAction | string;
  readonly reason: string;
  readonly relay: string;
  /** When the record was made, seconds since the epoch. */
  readonly time: number;
}

const OPTIONAL = new Set(['orig_rcpt', 'dsn_orig_rcpt', 'dsn_notify']);

const oneLine = (v: string): string => v.replace(/[\r\n]/g, ' ');

export function formatRecord(r: LogRecord): string {
  const fields: [string, string | number][] = [
    ['recipient', r.recipient],
    ['orig_rcpt', r.origRcpt],
    ['offset', r.offset],
    ['dsn_orig_rcpt', r.dsnOrigRcpt],
    ['dsn_notify', r.dsnNotify],
    ['status', r.status],
    ['action', r.action],
    ['reason', r.reason],
    ['relay', r.relay],
    ['time', r.time],
  ];
  const known = fields.filter(([n, v]) => !(OPTIONAL.has(n) && (v === '' || v === 0)));
  return `${known.map(([n, v]) => `${n}=${oneLine(String(v))}`).join('\n')}\n\n`;
}

const num = (v: string | undefined): number => (v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : 0);

/** The records of a log; a record without recipient or status (torn) is skipped. */
export function parseRecords(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const block of text.split(/\n\n+/)) {
    const f = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) f.set(line.slice(0, eq), line.slice(eq + 1));
    }
    const recipient = f.get('recipient');
    const status = f.get('status');
    if (recipient === undefined || status === undefined) continue;
    out.push({
      recipient,
      origRcpt: f.get('orig_rcpt') ?? '',
      offset: num(f.get('offset')),
      dsnOrigRcpt: f.get('dsn_orig_rcpt') ?? '',
      dsnNotify: num(f.get('dsn_notify')),
      status,
      action: f.get('action') ?? '',
      reason: f.get('reason') ?? '',
      relay: f.get('relay') ?? '',
      time: num(f.get('time')),
    });
  }
  return out;
}

/** The logs of one queue directory, with one-at-a-time access per log. */
export class LogStore {
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(readonly layout: QueueLayout) {}

  path(log: LogName, queueId: string): string {
    return queueFilePath(this.layout, log, queueId);
  }

  /** Run `work` when every earlier operation on the same log is done. */
  exclusive<T>(log: LogName, queueId: string, work: () => Promise<T>): Promise<T> {
    const key = this.path(log, queueId);
    const before = this.#busy.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const tail = mine.catch(() => {});
    this.#busy.set(key, tail);
    void tail.then(() => {
      if (this.#busy.get(key) === tail) this.#busy.delete(key);
    });
    return mine;
  }

  /**
   * Append one record and make it durable. The small local calls are
   * synchronous (no thread-pool round trip each); the fdatasync and the
   * directory sync stay asynchronous, so the appends of many logs are
   * synced at once.
   */
  append(log: LogName, queueId: string, r: LogRecord): Promise<void> {
    return this.exclusive(log, queueId, async () => {
      const path = this.path(log, queueId);
      let fd: number;
      try {
        fd = openSync(path, 'a+', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        // A hashed subdirectory is made on first use.
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        fd = openSync(path, 'a+', 0o600);
      }
      try {
        const size = fstatSync(fd).size;
        // After a record torn by a crash, start on a fresh line, in a record of its own.
        let sep = '';
        if (size > 0) {
          const tail = Buffer.alloc(Math.min(2, size));
          readSync(fd, tail, 0, tail.length, size - tail.length);
          sep = tail.toString('latin1').endsWith('\n\n') ? '' : '\n\n';
        }
        const data = Buffer.from(sep + formatRecord(r), 'utf8');
        for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
        await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
        // A new log's directory entry must survive a crash as well as its data.
        if (size === 0) await syncQueueDir(dirname(path));
      } finally {
        closeSync(fd);
      }
    });
  }

  /** The records of a log, or null when there is no log. Call inside exclusive(). */
  async read(log: LogName, queueId: string): Promise<LogRecord[] | null> {
    try {
      return parseRecords(await readFile(this.path(log, queueId), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Remove a log (gone already is fine). Call inside exclusive(). */
  async remove(log: LogName, queueId: string): Promise<void> {
    const path = this.path(log, queueId);
    try {
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await syncQueueDir(dirname(path));
  }
}
