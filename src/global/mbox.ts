/*
 * mbox - append one message to a UNIX mailbox file, all or nothing
 *
 * deliverMbox() locks the mailbox as mailbox_delivery_lock (local) or
 * virtual_mailbox_lock (virtual) says, appends
 *
 *     From <sender or MAILER-DAEMON>  <asctime, local time>
 *     <caller's prefix: Return-Path, X-Original-To, Delivered-To>
 *     <message, lines beginning "From " written as ">From ">
 *     <empty line>
 *
 * fsyncs the file, and unlocks. It resolves only when the message is on
 * disk. On any error the file is truncated back to its size before the
 * delivery, so a reader never sees half a message, and a MailboxError says
 * why (4.x.x: try again later, 5.x.x: bounce). A size limit
 * (mailbox_size_limit) applies to the whole file, as Postfix's file size
 * resource limit does.
 *
 * Locking, in Postfix's order: the dot lock (src/global/dotlock.ts), then
 * the file is opened, then the fcntl and/or flock lock is taken on that
 * descriptor by the lock addon, or through a helper process where the
 * addon was not built (src/local/mailbox_fcntl.ts), all with the retries of
 * deliver_lock_attempts/deliver_lock_delay. Where the helper cannot run,
 * a warning says so and the dot lock alone protects the mailbox. The file
 * is refused when it is a symbolic link, not a regular file, or has more
 * than one hard link, and is re-checked after opening (and against what
 * the lock helper locked) so it cannot be swapped in between.
 */

import {
  closeSync,
  constants,
  fstatSync,
  fsync,
  ftruncateSync,
  lstatSync,
  openSync,
  type Stats,
} from 'node:fs';
import { promisify } from 'node:util';
import {
  BatchWriter,
  chunks,
  LineCopier,
  MailboxError,
  type MessageSource,
  mailboxError,
  writeAllSync,
} from '../local/mailbox_copy.js';
import { type FcntlLock, fcntlLock, fcntlLockAvailable, fdLock, lockAddon } from '../local/mailbox_fcntl.js';
import { strerror } from '../util/strerror.js';
import { DotLockError, dotLock, type LockRetry } from './dotlock.js';
import { msg } from './msg.js';

const fsyncAsync = promisify(fsync);

export type LockMethod = 'flock' | 'fcntl' | 'dotlock';
const METHODS: readonly LockMethod[] = ['flock', 'fcntl', 'dotlock'];

/**
 * Parse mailbox_delivery_lock / virtual_mailbox_lock ("fcntl, dotlock").
 * Returns the methods, or an error text for an unknown name.
 */
export function parseMboxLock(value: string, param = 'mailbox_delivery_lock'): LockMethod[] | string {
  const out: LockMethod[] = [];
  for (const word of value.split(/[\s,]+/u).filter((w) => w !== '')) {
    const m = METHODS.find((x) => x === word.toLowerCase());
    if (m === undefined) return `unknown mailbox lock value "${word}" in "${value}"`;
    if (!out.includes(m)) out.push(m);
  }
  if (out.length === 0) return `parameter ${param} specifies no applicable mailbox locking method`;
  return out;
}

export interface MboxDelivery {
  readonly path: string;
  /** Envelope sender; "" (the null sender) is written as MAILER-DAEMON. */
  readonly sender: string;
  /** Delivery headers, already formatted (see deliveryHeaders()). */
  readonly prefix?: string | Uint8Array;
  readonly content: MessageSource;
  readonly lock: readonly LockMethod[];
  readonly retry: LockRetry;
  /** mailbox_size_limit / virtual_mailbox_limit in bytes; 0 = none. */
  readonly sizeLimit?: number;
  /** Permissions of a mailbox created here. */
  readonly mode?: number;
  /** Delivery time for the From line (tests). */
  readonly now?: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** asctime(3) of local time, without its newline: "Wed Nov  5 10:01:48 2026". */
export function asctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
  );
}

/** The mbox separator line (two spaces before the date, as Postfix writes it). */
export function fromLine(sender: string, now: Date): string {
  return `From ${sender === '' ? 'MAILER-DAEMON' : sender}  ${asctime(now)}\n`;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Why a mailbox path is unsafe to append to, or undefined. */
function unsafe(st: Stats, path: string): string | undefined {
  if (st.isSymbolicLink()) return 'file is a symbolic link';
  if (!st.isFile()) return `destination ${path} is not a regular file`;
  if (st.nlink > 1) return `file has ${st.nlink} hard links`;
  return undefined;
}

/** Resolves to the offset where the message starts (local's biff notice). */
export async function deliverMbox(req: MboxDelivery): Promise<number> {
  // Deliveries of this process to one mailbox take turns here, before the
  // locks: otherwise the second finds our own dot lock and sleeps a whole
  // deliver_lock_delay. Other processes still meet the locks as before.
  const before = turns.get(req.path);
  let done = () => {};
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const chain = before !== undefined ? before.then(() => mine) : mine;
  turns.set(req.path, chain);
  try {
    await before;
    return await lockedDelivery(req);
  } finally {
    done();
    if (turns.get(req.path) === chain) turns.delete(req.path);
  }
}

/** The last delivery of this process to each mailbox path, to queue behind. */
const turns = new Map<string, Promise<void>>();

async function lockedDelivery(req: MboxDelivery): Promise<number> {
  let unlock: (() => Promise<void>) | undefined;
  if (req.lock.includes('dotlock')) {
    try {
      unlock = await dotLock(req.path, req.retry);
    } catch (e) {
      const code = e instanceof DotLockError ? e.code : undefined;
      if (code === 'EEXIST') throw new MailboxError('4.2.0', (e as Error).message, code);
      // A spool directory where the lock file cannot be made (permissions) is
      // common; like Postfix, go on with the kernel lock when there is one.
      if (req.lock.length === 1) throw new MailboxError('5.2.0', (e as Error).message, code);
      msg.warn((e as Error).message);
    }
  }
  try {
    return await appendLocked(req);
  } finally {
    await unlock?.();
  }
}

async function appendLocked(req: MboxDelivery): Promise<number> {
  // Synchronous calls on the one local file (no thread-pool round trip per
  // call); only the fsync stays asynchronous, so that the deliveries a
  // worker has in flight sync together.
  let before: Stats | undefined;
  try {
    before = lstatSync(req.path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw mailboxError(e, '5.2.0', 'cannot open file');
  }
  const bad = before && unsafe(before, req.path);
  if (bad) throw new MailboxError('5.2.0', bad);

  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = openSync(req.path, flags, req.mode ?? 0o600);
  } catch (e) {
    // Postfix words a mailbox that did not exist yet as its exclusive creation.
    throw mailboxError(e, '5.2.0', before ? 'cannot open file' : 'cannot create file exclusively');
  }
  let origSize: number | undefined;
  let held: FcntlLock[] = [];
  try {
    const st = fstatSync(fd);
    const badNow = unsafe(st, req.path);
    if (badNow) throw new MailboxError('5.2.0', badNow);
    if (before && !sameFile(before, st)) throw new MailboxError('4.2.0', 'file status changed unexpectedly');
    held = await kernelLocks(req, st, fd);
    // The size to truncate back to is read under the lock: another writer may have appended before.
    origSize = fstatSync(fd).size;
    await copy(fd, req, origSize);
    if (held.some((lock) => !lock.held))
      throw new MailboxError('4.2.0', 'mailbox lock was lost during delivery');
  } catch (e) {
    // Only bytes of this delivery are cut off; before the size is known nothing was written.
    if (origSize !== undefined) {
      try {
        ftruncateSync(fd, origSize);
      } catch {
        // The delivery fails anyway; the reader sees a partial message at worst.
      }
    }
    await releaseAll(held);
    try {
      closeSync(fd);
    } catch {
      // Already failing.
    }
    throw e instanceof MailboxError ? e : mailboxError(e, '4.3.0', 'error writing message');
  }
  await releaseAll(held);
  try {
    closeSync(fd);
  } catch (e) {
    throw new MailboxError('4.3.0', `error writing message: ${strerror(e)}`);
  }
  return origSize;
}

let warned = false;

/**
 * Take the fcntl and flock locks the configuration asks for, on the file we
 * opened. Where the helper cannot run, the dot lock (if configured) is all
 * the protection; that is said once.
 */
async function kernelLocks(req: MboxDelivery, st: Stats, fd: number): Promise<FcntlLock[]> {
  const styles = req.lock.filter((m): m is 'fcntl' | 'flock' => m !== 'dotlock');
  if (styles.length === 0) return [];
  const lib = lockAddon();
  if (lib) {
    const held: FcntlLock[] = [];
    try {
      for (const style of styles) held.push(await fdLock(lib, fd, st, req.retry, style));
    } catch (e) {
      await releaseAll(held);
      throw e;
    }
    return held;
  }
  if (!fcntlLockAvailable()) {
    if (!warned)
      msg.warn(
        `${styles.join(', ')} mailbox locking is not available here (it needs perl on 64-bit Linux); using ${req.lock.includes('dotlock') ? 'dotlock only' : 'no lock'}`,
      );
    warned = true;
    return [];
  }
  const held: FcntlLock[] = [];
  try {
    for (const style of styles) {
      const lock = await fcntlLock(req.path, req.retry, style);
      held.push(lock);
      if (lock.dev !== st.dev || lock.ino !== st.ino) {
        throw new MailboxError('4.2.0', 'file status changed unexpectedly');
      }
    }
  } catch (e) {
    await releaseAll(held);
    throw e;
  }
  return held;
}

async function releaseAll(held: readonly FcntlLock[]): Promise<void> {
  for (const lock of held) await lock.release();
}

async function copy(fd: number, req: MboxDelivery, origSize: number): Promise<void> {
  const room =
    req.sizeLimit && req.sizeLimit > 0 ? Math.max(0, req.sizeLimit - origSize) : Number.POSITIVE_INFINITY;
  const out = new BatchWriter((b) => writeAllSync(fd, b), room);
  await out.add([Buffer.from(fromLine(req.sender, req.now ?? new Date()))]);
  if (req.prefix !== undefined && req.prefix.length > 0) {
    await out.add([typeof req.prefix === 'string' ? Buffer.from(req.prefix) : Buffer.from(req.prefix)]);
  }
  const body = new LineCopier(true);
  for await (const c of chunks(req.content)) await out.add(body.push(c));
  await out.add(body.end());
  await out.add([Buffer.from('\n')]);
  await out.flush();
  await fsyncAsync(fd);
}
