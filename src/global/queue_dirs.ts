/*
 * queue_dirs - the queue directory tree and where a queue file lives in it
 *
 * Queues (under queue_directory): maildrop (postdrop drops local
 * submissions here), incoming (cleanup's finished files), active (what
 * qmgr is working on), deferred, hold, corrupt (unreadable files), the
 * per-message logs bounce, defer and trace, flush (fast flush logs) and
 * saved (quarantine). Queues named in hash_queue_names are split into
 * hash_queue_depth levels of one-character subdirectories, chosen by the
 * queue ID's microseconds in hex (see queue_id.ts); other queues are flat.
 */

import { closeSync, type Dirent, fsync, mkdirSync, openSync, readdirSync, renameSync } from 'node:fs';
import { chmod, mkdir, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory } from '../util/atomic_file.js';
import { loadParams, type MainConfig } from './config.js';
import { isQueueId, queueIdHashKey } from './queue_id.js';

/** Every queue, with the mode Postfix gives it (maildrop: group postdrop may write). */
export const QUEUE_MODES: Readonly<Record<string, number>> = Object.freeze({
  maildrop: 0o730,
  incoming: 0o700,
  active: 0o700,
  deferred: 0o700,
  hold: 0o700,
  corrupt: 0o700,
  bounce: 0o700,
  defer: 0o700,
  trace: 0o700,
  flush: 0o700,
  saved: 0o700,
});

export const QUEUE_NAMES: readonly string[] = Object.freeze(Object.keys(QUEUE_MODES));

export interface QueueLayout {
  /** queue_directory, absolute. */
  readonly directory: string;
  /** Queues split into subdirectories (hash_queue_names). */
  readonly hashed: ReadonlySet<string>;
  /** Levels of subdirectories (hash_queue_depth). */
  readonly depth: number;
  /** New queue files get long IDs (enable_long_queue_ids). */
  readonly longIds: boolean;
}

/** The layout main.cf describes. */
export function queueLayout(cfg: MainConfig): QueueLayout {
  const p = loadParams(cfg, [
    'queue_directory',
    'hash_queue_names',
    'hash_queue_depth',
    'enable_long_queue_ids',
  ]);
  return {
    directory: String(p.queue_directory),
    hashed: new Set(cfg.list('hash_queue_names')),
    depth: Number(p.hash_queue_depth),
    longIds: p.enable_long_queue_ids === true,
  };
}

/**
 * The subdirectory levels for `name` in `queue`, relative to the queue
 * ("A/B" for depth 2), or "" when the queue is not hashed. A name shorter
 * than the depth pads with '_', as Postfix's directory forest does.
 */
export function queueHashDirs(layout: QueueLayout, queue: string, name: string): string {
  if (!layout.hashed.has(queue) || layout.depth <= 0) return '';
  const key = queueIdHashKey(name) ?? name;
  const parts: string[] = [];
  for (let i = 0; i < layout.depth; i++) parts.push(key[i] ?? '_');
  return parts.join('/');
}

/** The directory that holds `name` in `queue`. */
export function queueFileDir(layout: QueueLayout, queue: string, name: string): string {
  return join(layout.directory, queue, queueHashDirs(layout, queue, name));
}

/** A name made of letters and digits only (every queue ID): nothing in it for join() to normalize. */
const PLAIN_NAME = /^[0-9A-Za-z]{1,64}$/;
/** queue_directory as join() leaves it, per layout directory: the start of every path. */
const bases = new Map<string, string>();

/** The path of queue file `name` (a queue ID) in `queue`. */
export function queueFilePath(layout: QueueLayout, queue: string, name: string): string {
  // Daemons build several paths per message: plain names skip join()'s normalizing.
  if (Object.hasOwn(QUEUE_MODES, queue) && PLAIN_NAME.test(name) && layout.directory.startsWith('/')) {
    let base = bases.get(layout.directory);
    if (base === undefined) {
      base = join(layout.directory, '.');
      if (base.endsWith('/')) base = base.slice(0, -1);
      bases.set(layout.directory, base);
    }
    const hash = queueHashDirs(layout, queue, name);
    return hash === '' ? `${base}/${queue}/${name}` : `${base}/${queue}/${hash}/${name}`;
  }
  return join(queueFileDir(layout, queue, name), name);
}

/**
 * Create the queue directories that are missing, with their modes (set
 * explicitly: the umask must not weaken or widen them). Hashed
 * subdirectories are made on demand by writers.
 */
export async function createQueueDirs(
  layout: QueueLayout,
  queues: readonly string[] = QUEUE_NAMES,
): Promise<void> {
  await mkdir(layout.directory, { recursive: true });
  for (const q of queues) {
    const mode = QUEUE_MODES[q] ?? 0o700;
    const dir = join(layout.directory, q);
    await mkdir(dir, { recursive: true, mode });
    await chmod(dir, mode);
  }
}

/** Per directory: the fsync under way, and the one queued behind it. */
const dirSyncs = new Map<string, { running: Promise<void>; next: Promise<void> | undefined }>();

/** open and close are synchronous (cheap metadata calls); the fsync itself goes to the thread pool. */
async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    const open = fd;
    await new Promise<void>((resolve, reject) => fsync(open, (e) => (e ? reject(e) : resolve())));
  } catch {
    // Some file systems refuse to sync a directory; the rename or link is made anyway.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Make the entries of `dir` durable (after a link, rename or unlink in
 * it), without blocking the event loop (unless opts.blocking and no sync
 * of `dir` is under way: then at once, synchronously). Callers that arrive while a sync
 * is running share the next one, which starts after it: one fsync then
 * covers every change made before it began, however many messages wait.
 */
export function syncQueueDir(dir: string, opts: { readonly blocking?: boolean } = {}): Promise<void> {
  const cur = dirSyncs.get(dir);
  if (cur === undefined && opts.blocking === true) {
    syncDirectory(dir);
    return Promise.resolve();
  }
  if (cur === undefined) {
    const entry = { running: fsyncDir(dir), next: undefined as Promise<void> | undefined };
    dirSyncs.set(dir, entry);
    void entry.running.then(() => {
      if (dirSyncs.get(dir) === entry && entry.next === undefined) dirSyncs.delete(dir);
    });
    return entry.running;
  }
  if (cur.next === undefined) {
    const next = cur.running.then(() => {
      const entry = { running: fsyncDir(dir), next: undefined as Promise<void> | undefined };
      dirSyncs.set(dir, entry);
      void entry.running.then(() => {
        if (dirSyncs.get(dir) === entry && entry.next === undefined) dirSyncs.delete(dir);
      });
      return entry.running;
    });
    cur.next = next;
  }
  return cur.next;
}

/** What a caller asks of a move or removal. */
export interface QueueSyncOptions {
  /**
   * Sync the directories (default). false: the caller has shown that
   * losing this change in a crash only makes the message be processed
   * again (at least once), never lost; see docs/qmgr.md.
   */
  readonly sync?: boolean;
}

/**
 * Move queue file `id` from one queue to another (incoming to active,
 * active to deferred, anything to corrupt...), making hashed
 * subdirectories as needed. A rename: the file is in exactly one queue at
 * any instant. Resolves once both directories are synced (unless
 * opts.sync is false). The rename itself is a synchronous call: one
 * metadata operation costs less than a trip through the thread pool.
 */
export async function moveQueueFile(
  layout: QueueLayout,
  from: string,
  to: string,
  id: string,
  opts: QueueSyncOptions = {},
): Promise<string> {
  const src = queueFilePath(layout, from, id);
  const dst = queueFilePath(layout, to, id);
  try {
    renameSync(src, dst);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // Either the file is gone (the caller's error) or the hashed subdirectory is missing.
    mkdirSync(dirname(dst), { recursive: true, mode: 0o700 });
    renameSync(src, dst);
  }
  if (opts.sync !== false) await Promise.all([syncQueueDir(dirname(dst)), syncQueueDir(dirname(src))]);
  return dst;
}

/**
 * Remove queue file `id` from `queue` (delivered, or deleted by postsuper)
 * and sync its directory (unless opts.sync is false). False when it was
 * not there.
 */
export async function removeQueueFile(
  layout: QueueLayout,
  queue: string,
  id: string,
  opts: QueueSyncOptions = {},
): Promise<boolean> {
  const path = queueFilePath(layout, queue, id);
  try {
    // Asynchronous: freeing a file's blocks can wait for the file system's
    // journal, which would stall the caller's whole event loop.
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (opts.sync !== false) await syncQueueDir(dirname(path));
  return true;
}

/**
 * The queue files in `queue`, hashed subdirectories included, in no
 * particular order. Names that are not queue IDs (a writer's temporary
 * files) are skipped.
 */
export async function* scanQueue(
  layout: QueueLayout,
  queue: string,
): AsyncGenerator<{ id: string; path: string }> {
  const depth = layout.hashed.has(queue) ? Math.max(0, layout.depth) : 0;
  async function* walk(dir: string, level: number): AsyncGenerator<{ id: string; path: string }> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (level < depth && e.name.length === 1) yield* walk(path, level + 1);
      } else if (isQueueId(e.name)) {
        yield { id: e.name, path };
      }
    }
  }
  yield* walk(join(layout.directory, queue), 0);
}

/**
 * scanQueue at once, with synchronous directory reads: for a daemon that
 * lists a queue on every trigger (qmgr), where a listing is a few getdents
 * calls and the thread pool's hops would cost more than the reads.
 */
export function listQueue(layout: QueueLayout, queue: string): { id: string; path: string }[] {
  const depth = layout.hashed.has(queue) ? Math.max(0, layout.depth) : 0;
  const out: { id: string; path: string }[] = [];
  const walk = (dir: string, level: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (level < depth && e.name.length === 1) walk(path, level + 1);
      } else if (isQueueId(e.name)) {
        out.push({ id: e.name, path });
      }
    }
  };
  walk(join(layout.directory, queue), 0);
  return out;
}
