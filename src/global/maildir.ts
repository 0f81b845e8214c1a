/*
 * maildir - deliver one message into a Maildir, safely without locks
 *
 * deliverMaildir() follows the Maildir protocol as Postfix's local(8) and
 * virtual(8) do: the message is written to tmp/<sec>.P<pid>Q<n>.<host>
 * (created exclusively, mode 0600), fsync'd, then hard-linked as
 * new/<sec>.V<dev>I<ino>M<usec>.<host> (device and inode in hex, the
 * name Postfix 3.7 gives) and the tmp name removed. A reader sees either
 * no message or the whole one. Unlike Postfix, the new/ directory is
 * fsync'd too, so the link itself survives a crash before the delivery
 * is reported done (deliveries at once in one process share those
 * directory fsyncs). Missing tmp/, new/ and cur/ are created (mode 0700).
 * Opens, writes, links and unlinks are synchronous calls (small local
 * files: cheaper than a thread-pool round trip); the fsyncs, which wait
 * for the disk, run in the thread pool so deliveries overlap.
 *
 * Content is copied as is: no "From " line and no quoting; a last line
 * without newline gets one. The "Q<n>" counter in the tmp name keeps
 * concurrent deliveries of one process apart (Postfix runs one delivery
 * per process and needs no counter). "/" and ":" in the host name are
 * written as \057 and \072, as the Maildir specification asks.
 */

import { closeSync, constants, fstatSync, fsync, linkSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriter,
  chunks,
  LineCopier,
  MailboxError,
  type MessageSource,
  mailboxError,
  writeAllSync,
} from '../local/mailbox_copy.js';
import { strerror } from '../util/strerror.js';
import { msg } from './msg.js';

export interface MaildirDelivery {
  /** The Maildir directory (the one holding tmp/, new/, cur/). */
  readonly dir: string;
  readonly prefix?: string | Uint8Array;
  readonly content: MessageSource;
  /** mailbox_size_limit / virtual_mailbox_limit applies to each message file; 0 = none. */
  readonly sizeLimit?: number;
  readonly hostname?: string;
}

let sequence = 0;
/** The host name, as Postfix takes it once per process. */
let myHostname: string | undefined;

export function maildirHostname(name: string = (myHostname ??= hostname())): string {
  return name.replace(/\//gu, '\\057').replace(/:/gu, '\\072');
}

/** Wall clock with microseconds, as gettimeofday(2). */
function timeOfDay(): { sec: number; usec: number } {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return { sec: Math.floor(us / 1e6), usec: us % 1e6 };
}

function makeDirs(dir: string): void {
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
}

/** fsync in the thread pool: deliveries in one process may sync at once. */
function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to do: the descriptor is gone either way
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never made
  }
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Deliver; resolves to the new/ path of the message once it is on disk. */
export async function deliverMaildir(req: MaildirDelivery): Promise<string> {
  const host = maildirHostname(req.hostname);
  const start = timeOfDay();
  const tmpFile = join(req.dir, 'tmp', `${start.sec}.P${process.pid}Q${++sequence}.${host}`);
  // Small local files: synchronous calls cost far less than a thread-pool
  // round trip each; only the fsyncs go to the pool (they wait for the disk).
  // O_EXCL: never through a symbolic link, never over another message.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_TRUNC;
  let fd: number;
  try {
    fd = openSync(tmpFile, flags, 0o600);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw mailboxError(e, '5.2.0', `create maildir file ${tmpFile}`);
    try {
      makeDirs(req.dir);
      fd = openSync(tmpFile, flags, 0o600);
    } catch (e2) {
      throw mailboxError(e2, '5.2.0', `create maildir file ${tmpFile}`);
    }
  }
  let newFile: string;
  try {
    const st = fstatSync(fd, { bigint: true });
    newFile = join(
      req.dir,
      'new',
      `${start.sec}.V${st.dev.toString(16)}I${st.ino.toString(16)}M${start.usec}.${host}`,
    );
    const room = req.sizeLimit && req.sizeLimit > 0 ? req.sizeLimit : Number.POSITIVE_INFINITY;
    const out = new BatchWriter((b) => writeAllSync(fd, b), room);
    if (req.prefix !== undefined && req.prefix.length > 0) await out.add([Buffer.from(req.prefix)]);
    const body = new LineCopier(false);
    for await (const c of chunks(req.content)) await out.add(body.push(c));
    await out.add(body.end());
    await out.flush();
    await syncFd(fd);
    closeSync(fd);
  } catch (e) {
    closeQuietly(fd);
    unlinkQuietly(tmpFile);
    throw e instanceof MailboxError ? e : mailboxError(e, '4.3.0', 'error writing message');
  }
  try {
    linkNew(req.dir, tmpFile, newFile);
  } catch (e) {
    unlinkQuietly(tmpFile);
    throw mailboxError(e, '5.2.0', `create maildir file ${newFile}`);
  }
  try {
    unlinkSync(tmpFile);
  } catch (e) {
    msg.warn(`remove ${tmpFile}: ${strerror(e)}`);
  }
  await syncDir(join(req.dir, 'new'));
  return newFile;
}

function linkNew(dir: string, tmpFile: string, newFile: string): void {
  try {
    linkSync(tmpFile, newFile);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
    makeDirs(dir);
    linkSync(tmpFile, newFile);
  }
}

/** fsync a directory so a link in it survives a crash; file systems that refuse are let be. */
async function fsyncDir(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  await syncFd(fd).catch(() => undefined);
  closeQuietly(fd);
}

/** Per directory: the fsync running, and the one that will follow it. */
const dirSyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

/**
 * Shared directory syncs: a caller that arrives while one runs (it may
 * have started before the caller's link) waits for the next one, which
 * starts after it and covers every link made before it began; callers
 * that arrive meanwhile share that one. Many deliveries to one Maildir
 * at once pay few fsyncs of new/.
 */
function syncDir(dir: string): Promise<void> {
  const start = (): Promise<void> => {
    const entry: { running: Promise<void>; next?: Promise<void> } = { running: fsyncDir(dir) };
    dirSyncs.set(dir, entry);
    void entry.running.then(() => {
      if (dirSyncs.get(dir) === entry && entry.next === undefined) dirSyncs.delete(dir);
    });
    return entry.running;
  };
  const cur = dirSyncs.get(dir);
  if (cur === undefined) return start();
  cur.next ??= cur.running.then(start);
  return cur.next;
}
