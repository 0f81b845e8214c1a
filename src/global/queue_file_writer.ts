/*
 * queue_file_writer - write a new queue file, durably, for cleanup
 *
 *   const w = await createQueueFile(layout);     // incoming/<temp name>
 *   await w.envelope({ arrival, sender, recipients, attributes });
 *   await w.content(chunk); ...                  // raw bytes, LF line ends
 *   await w.recipient(r);                        // optional, after content
 *   const id = await w.commit();                 // safe on disk now
 *
 * Guarantees: commit() resolves only after the file's data is synced, the
 * file has its queue ID name in incoming (a hard link, so an existing file
 * of that name is never overwritten) and the directory is synced: a crash
 * after that loses nothing, a crash before leaves only a temp file that is
 * not a queue ID. Memory stays bounded: records are batched up to a
 * fixed size and each call waits for its write when the batch is full.
 * Many writers may run at once; each has its own file. Await every call
 * before the next on the same writer; after a failed call, abort().
 *
 * Cost: a queue file is small and local, so everything but the syncs is
 * a synchronous call (no thread-pool round trip each). A message smaller
 * than the batch reaches the disk as one write, its size record already
 * filled in; only the file fsync and the directory fsync are asynchronous,
 * so that many messages' syncs run at once (and the directory syncs are
 * shared, see syncQueueDir), except when a writer is the only one in hand
 * in its process (mail that comes one message at a time): nothing could
 * overlap, and synchronous fsyncs save the thread-pool hand-offs and
 * event-loop wake-ups (the same syncs in the same order: the same
 * durability).
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { QueueLayout } from './queue_dirs.js';
import { queueFileDir, queueFilePath, syncQueueDir } from './queue_dirs.js';
import {
  DEFAULT_CONTENT_RECORD,
  encodeRecord,
  formatSize,
  formatWarn,
  type QueueEnvelope,
  type QueueRecipient,
  REC,
  recipientRecords,
  SIZE_RECORD_LEN,
} from './queue_file.js';
import { makeQueueId, type QueueIdTime, queueIdNow } from './queue_id.js';

const FLUSH_AT = 64 * 1024;
const LF = 0x0a;
const NEWLINE = Buffer.from('\n');
let tempSeq = 0;
/** Writers of this process neither committed nor aborted. */
let inHand = 0;
/** Random per process (a pid reused after a crash meets no leftover name), then counted: no entropy call per file. */
const tempBase = randomBytes(4).readUInt32BE(0);

function tempTag(seq: number): string {
  return ((tempBase + seq) >>> 0).toString(16).padStart(8, '0');
}

export interface CreateOptions {
  /** The queue to create the file in (default incoming). */
  readonly queue?: string;
  /** Size of the pieces long content lines are cut into. */
  readonly contentRecordSize?: number;
  /** Creation time (tests); default now. */
  readonly time?: QueueIdTime;
}

/** A writer's temporary name (never a queue ID: queue IDs have no dots). */
export function isWriterTempName(name: string): boolean {
  return /^t\d+\.\d+\.[0-9a-f]{8}$/.test(name);
}

/** Start a new queue file in `layout`'s incoming queue under a temporary name. */
export async function createQueueFile(
  layout: QueueLayout,
  opts: CreateOptions = {},
): Promise<QueueFileWriter> {
  const queue = opts.queue ?? 'incoming';
  const tmpDir = join(layout.directory, queue);
  const tmpPath = join(tmpDir, `t${process.pid}.${++tempSeq}.${tempTag(tempSeq)}`);
  // (isWriterTempName recognises exactly these names.)
  // maildrop files are readable by all: pickup, running as mail_owner, reads what any user submitted.
  const mode = queue === 'maildrop' ? 0o644 : 0o600;
  const fd = openSync(tmpPath, 'wx', mode);
  try {
    if (mode !== 0o600) fchmodSync(fd, mode);
    const st = fstatSync(fd, { bigint: true });
    const w = new QueueFileWriter(layout, queue, fd, tmpPath, st.ino, opts);
    w.start();
    inHand++;
    return w;
  } catch (e) {
    quietly(() => closeSync(fd));
    quietly(() => unlinkSync(tmpPath));
    throw e;
  }
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // Cleaning up after a failure: the first error is the one to report.
  }
}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

type State = 'new' | 'envelope' | 'content' | 'extracted' | 'committed' | 'aborted';

export class QueueFileWriter {
  #state: State = 'new';
  #batch: Buffer[] = [];
  #batchLen = 0;
  /** File offset of the next byte not yet in the batch or on disk. */
  #offset = 0;
  /** Bytes already written to the file (the batch starts there). */
  #written = 0;
  #contentOffset = 0;
  #xtraOffset = 0;
  #contentLength = 0;
  #rcptCount = 0;
  /** An unfinished line: bytes after the last LF, fewer than one record's worth. */
  #line: Buffer[] = [];
  #lineLen = 0;
  readonly #pieceSize: number;
  #time: QueueIdTime;
  #queueId: string;
  #held = true;

  constructor(
    readonly layout: QueueLayout,
    readonly queue: string,
    private readonly fd: number,
    readonly tempPath: string,
    private readonly inode: bigint,
    opts: CreateOptions,
  ) {
    this.#pieceSize = Math.max(1, opts.contentRecordSize ?? DEFAULT_CONTENT_RECORD);
    this.#time = opts.time ?? queueIdNow();
    this.#queueId = makeQueueId(layout.longIds, this.#time, inode);
  }

  /** The queue ID; final once commit() resolved (a rare name clash picks a new one). */
  get queueId(): string {
    return this.#queueId;
  }

  /** Message size so far: content bytes. */
  get contentLength(): number {
    return this.#contentLength;
  }

  /**
   * @internal the C placeholder: zero sizes read as a torn file until commit
   * patches them. It stays in the batch: a message that fits in one batch
   * is written once, with the real sizes (the file has no queue ID name
   * before it is synced, so nothing reads it half written).
   */
  start(): void {
    this.#put(
      REC.SIZE,
      formatSize({ contentOffset: 0, xtraOffset: 0, contentLength: 0, rcptCount: 0, fileSize: 0 }),
    );
    if (this.#offset !== SIZE_RECORD_LEN) throw new Error('queue file: size record length mismatch');
  }

  /** Write the envelope: everything before the content. */
  async envelope(env: QueueEnvelope): Promise<void> {
    this.#expect('new', 'envelope');
    this.#state = 'envelope';
    this.#put(REC.TIME, `${env.arrival.sec} ${env.arrival.usec}`);
    this.#put(REC.WARN, formatWarn(env.warnTime ?? 0));
    for (const [name, value] of Object.entries(env.attributes ?? {})) {
      if (name === '' || name.includes('='))
        throw new TypeError(`bad queue file attribute name: ${JSON.stringify(name)}`);
      this.#put(REC.ATTR, `${name}=${value}`);
    }
    if (env.dsnEnvid !== undefined) this.#put(REC.DSN_ENVID, env.dsnEnvid);
    if (env.dsnRet !== undefined) this.#put(REC.DSN_RET, String(env.dsnRet));
    this.#put(REC.FROM, env.sender);
    for (const r of env.recipients) this.#putRecipient(r);
    this.#maybeFlush();
  }

  /** Append raw message content (header and body, LF line ends, any bytes). */
  async content(chunk: Uint8Array): Promise<void> {
    if (this.#state === 'envelope') {
      this.#contentOffset = this.#offset;
      this.#put(REC.MESG, '');
      this.#state = 'content';
    }
    this.#expect('content', 'content');
    this.#contentLength += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const room = this.#pieceSize - this.#lineLen;
      if (lf >= 0 && lf - start <= room) {
        this.#line.push(Buffer.from(chunk.subarray(start, lf)));
        this.#lineLen += lf - start;
        this.#endLine(REC.NORM);
        start = lf + 1;
      } else {
        const end = Math.min(chunk.length, start + room);
        this.#line.push(Buffer.from(chunk.subarray(start, end)));
        this.#lineLen += end - start;
        start = end;
        if (this.#lineLen === this.#pieceSize) this.#endLine(REC.CONT);
      }
      if (this.#batchLen >= FLUSH_AT) this.#flush();
    }
  }

  /** One whole line of content without its LF: content(line + LF), without copying or scanning twice. */
  async line(bytes: Uint8Array): Promise<void> {
    if (
      this.#state !== 'content' ||
      this.#lineLen > 0 ||
      bytes.length > this.#pieceSize ||
      bytes.includes(LF)
    ) {
      await this.content(Buffer.concat([bytes, NEWLINE]));
      return;
    }
    this.#contentLength += bytes.length + 1;
    this.#put(REC.NORM, bytes);
    this.#maybeFlush();
  }

  /** Add a recipient after the content (sendmail -t, header-derived). */
  async recipient(r: QueueRecipient): Promise<void> {
    if (this.#state === 'envelope' || this.#state === 'content') this.#endContent();
    this.#expect('extracted', 'recipient');
    this.#putRecipient(r);
    this.#maybeFlush();
  }

  /**
   * Where the content stands now (between lines), for rewind(): cleanup
   * returns a refused message with its headers only, as Postfix does.
   */
  contentMark(): { readonly offset: number; readonly length: number } | undefined {
    if (this.#state !== 'content' || this.#lineLen > 0) return undefined;
    return { offset: this.#offset, length: this.#contentLength };
  }

  /** Forget the content written after `mark` (the file is cut there when committed). */
  async rewind(mark: { readonly offset: number; readonly length: number }): Promise<void> {
    this.#expect('content', 'rewind');
    if (this.#lineLen > 0 || mark.offset > this.#offset)
      throw new Error(`queue file ${this.tempPath}: bad rewind`);
    this.#flush();
    ftruncateSync(this.fd, mark.offset);
    this.#offset = mark.offset;
    this.#written = mark.offset;
    this.#contentLength = mark.length;
  }

  /** A named attribute after the content (cleanup: content_filter found by body_checks). */
  async attribute(name: string, value: string): Promise<void> {
    if (this.#state === 'envelope' || this.#state === 'content') this.#endContent();
    this.#expect('extracted', 'attribute');
    if (name === '' || name.includes('='))
      throw new TypeError(`bad queue file attribute name: ${JSON.stringify(name)}`);
    this.#put(REC.ATTR, `${name}=${value}`);
    this.#maybeFlush();
  }

  /**
   * Finish the file: sync it, give it its queue ID name, sync the
   * directory. Resolves with the queue ID once the message is safe.
   * `queue` names a different queue for the final name (cleanup: hold),
   * so the file is never visible where it must not be picked up.
   */
  async commit(opts: { queue?: string } = {}): Promise<string> {
    try {
      if (this.#state === 'envelope' || this.#state === 'content') this.#endContent();
      this.#expect('extracted', 'commit');
      this.#put(REC.END, '');
      const fileSize = this.#offset;
      const size = encodeRecord(
        REC.SIZE,
        formatSize({
          contentOffset: this.#contentOffset,
          xtraOffset: this.#xtraOffset,
          contentLength: this.#contentLength,
          rcptCount: this.#rcptCount,
          fileSize,
        }),
      );
      if (size.length !== SIZE_RECORD_LEN) throw new Error('queue file: size record length mismatch');
      if (this.#written === 0) {
        // Nothing on disk yet: the real sizes replace the placeholder, one write.
        this.#batch[0] = size;
        this.#flush();
      } else {
        this.#flush();
        this.#writeAt(size, 0);
      }
      if (inHand === 1) fsyncSync(this.fd);
      else await fsyncAsync(this.fd);
    } catch (e) {
      // A file that cannot be finished is never kept (disk full, misuse).
      await this.abort();
      throw e;
    }
    this.#state = 'committed';
    try {
      let finalPath: string;
      try {
        closeSync(this.fd);
        finalPath = await this.#link(opts.queue ?? this.queue);
        unlinkSync(this.tempPath);
      } catch (e) {
        quietly(() => unlinkSync(this.tempPath));
        throw e;
      }
      const dirs = new Set([dirname(finalPath), dirname(this.tempPath)]);
      const blocking = inHand === 1;
      await Promise.all([...dirs].map((d) => syncQueueDir(d, { blocking })));
      return this.#queueId;
    } finally {
      this.#letGo();
    }
  }

  #letGo(): void {
    if (!this.#held) return;
    this.#held = false;
    inHand--;
  }

  /** Give the file its queue ID name; a name already taken means a fresh ID. */
  async #link(queue: string): Promise<string> {
    for (;;) {
      const finalPath = queueFilePath(this.layout, queue, this.#queueId);
      try {
        linkSync(this.tempPath, finalPath);
        return finalPath;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          mkdirSync(queueFileDir(this.layout, queue, this.#queueId), { recursive: true, mode: 0o700 });
        } else if (code === 'EEXIST') {
          // Short IDs repeat (same microseconds, reused inode): take a fresh time.
          await new Promise((r) => setTimeout(r, 1));
          this.#time = queueIdNow();
          this.#queueId = makeQueueId(this.layout.longIds, this.#time, this.inode);
        } else {
          throw e;
        }
      }
    }
  }

  /** Give up: close and remove the temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#letGo();
    quietly(() => closeSync(this.fd));
    quietly(() => unlinkSync(this.tempPath));
  }

  #expect(state: State, op: string): void {
    if (this.#state === state) return;
    const why =
      this.#state === 'new'
        ? 'the envelope must come first'
        : this.#state === 'committed' || this.#state === 'aborted'
          ? `the file was already ${this.#state}`
          : `not allowed after ${this.#state === 'extracted' ? 'recipients added after the content' : `the ${this.#state}`}`;
    throw new Error(`queue file ${this.tempPath}: ${op}: ${why}`);
  }

  #putRecipient(r: QueueRecipient): void {
    for (const [type, payload] of recipientRecords(r)) this.#put(type, payload);
    this.#rcptCount++;
  }

  #endLine(type: number): void {
    this.#put(type, Buffer.concat(this.#line, this.#lineLen));
    this.#line = [];
    this.#lineLen = 0;
  }

  /** Close the content section (an envelope with no content gets an empty one). */
  #endContent(): void {
    if (this.#state === 'envelope') {
      this.#contentOffset = this.#offset;
      this.#put(REC.MESG, '');
      this.#state = 'content';
    }
    if (this.#state !== 'content') return;
    if (this.#lineLen > 0) this.#endLine(REC.CONT);
    this.#xtraOffset = this.#offset;
    this.#put(REC.XTRA, '');
    this.#state = 'extracted';
  }

  #put(type: number, payload: Uint8Array | string): void {
    const rec = encodeRecord(type, payload);
    this.#batch.push(rec);
    this.#batchLen += rec.length;
    this.#offset += rec.length;
  }

  #maybeFlush(): void {
    if (this.#batchLen >= FLUSH_AT) this.#flush();
  }

  #flush(): void {
    if (this.#batchLen === 0) return;
    const data =
      this.#batch.length === 1 ? (this.#batch[0] as Buffer) : Buffer.concat(this.#batch, this.#batchLen);
    const at = this.#offset - this.#batchLen;
    this.#batch = [];
    this.#batchLen = 0;
    this.#writeAt(data, at);
    this.#written = this.#offset;
  }

  #writeAt(data: Buffer, at: number): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, at + done);
  }
}
