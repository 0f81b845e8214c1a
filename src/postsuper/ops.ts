/*
 * ops - what postsuper does to queue files: delete, hold, release,
 * requeue, repair the directory structure, purge temporary files
 *
 * Every change of place is one rename(2) (moveQueueFile), so a message is
 * in exactly one queue at any instant and keeps its inode: a qmgr or
 * delivery agent that has the file open goes on reading and marking
 * recipients done in the same file wherever it now lives. What such a
 * process can no longer do is find the file under its old name: qmgr's
 * next move of it fails with ENOENT and it must drop the message from
 * memory (docs/admin.md, "postsuper and a running qmgr"). Requeueing an
 * active message can therefore deliver a recipient twice, never zero
 * times: at-least-once, as everywhere in Postroom.
 */

import { chmod, lstat, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { msg } from '../global/msg.js';
import {
  moveQueueFile,
  type QueueLayout,
  queueFilePath,
  removeQueueFile,
  syncQueueDir,
} from '../global/queue_dirs.js';
import { isQueueId, parseQueueId } from '../global/queue_id.js';

export type Operation = 'delete' | 'expire' | 'hold' | 'release' | 'requeue';

/** Queues that hold messages, in the order postsuper visits them. */
export const MESSAGE_QUEUES: readonly string[] = ['incoming', 'active', 'deferred', 'hold', 'maildrop'];
/** Queues that hold per-message logs. */
export const LOG_QUEUES: readonly string[] = ['bounce', 'defer', 'trace', 'flush'];
/** Every directory name postsuper accepts on its command line. */
export const DIRECTORY_NAMES: readonly string[] = [...MESSAGE_QUEUES, ...LOG_QUEUES];

/** Where each operation takes messages from (Postfix 3.7's defaults). */
export const SOURCES: Readonly<Record<Operation, readonly string[]>> = {
  delete: ['incoming', 'active', 'deferred', 'hold', 'maildrop'],
  expire: ['incoming', 'active', 'deferred', 'hold'],
  hold: ['incoming', 'active', 'deferred'],
  release: ['hold'],
  requeue: ['incoming', 'active', 'deferred', 'hold'],
};

const TARGET: Readonly<Record<Exclude<Operation, 'delete' | 'expire'>, string>> = {
  hold: 'hold',
  release: 'deferred',
  requeue: 'maildrop',
};

/** The syslog line for one message, and the summary word. */
export const WORDS: Readonly<Record<Operation, { line: string; summary: string }>> = {
  delete: { line: 'removed', summary: 'Deleted' },
  expire: { line: 'expired', summary: 'Force-expired' },
  hold: { line: 'placed on hold', summary: 'Placed on hold' },
  release: { line: 'released from hold', summary: 'Released from hold' },
  requeue: { line: 'requeued', summary: 'Requeued' },
};

/** Postfix's test for a queue ID given on the command line: letters, digits, '_'. */
export function queueIdOk(id: string): boolean {
  return id.length > 0 && id.length <= 255 && /^[A-Za-z0-9_]+$/.test(id);
}

/** "Deleted: 1 message" / "Deleted: 3 messages". */
export function summary(op: Operation, n: number): string {
  return `${WORDS[op].summary}: ${n} message${n === 1 ? '' : 's'}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Apply `op` to message `id` in the first of `queues` that has it.
 * Deleting also removes its bounce, defer and trace logs. True when a file
 * was acted on.
 */
export async function applyOne(
  layout: QueueLayout,
  op: Operation,
  queues: readonly string[],
  id: string,
): Promise<boolean> {
  for (const q of queues) {
    if (!(await exists(queueFilePath(layout, q, id)))) continue;
    try {
      if (op === 'delete') {
        if (!(await removeQueueFile(layout, q, id))) continue;
        for (const log of ['bounce', 'defer', 'trace']) await removeQueueFile(layout, log, id);
      } else if (op === 'expire') {
        return await markExpired(queueFilePath(layout, q, id));
      } else {
        await moveQueueFile(layout, q, TARGET[op], id);
      }
      return true;
    } catch (e) {
      // Gone meanwhile (qmgr finished with it): not ours to report.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
  }
  return false;
}

/**
 * The forced-expiration mark, as Postfix sets it: the group-execute bit of
 * the queue file's mode (queue files are created 0600, so the bit means
 * nothing else). qmgr returns such a message to its sender at its next
 * delivery attempt; showq lists it with '#' and "forced_expire": true.
 */
export const EXPIRE_MODE_BIT = 0o010;

/** Set the mark; false when it was already set (Postfix counts only new ones). */
async function markExpired(path: string): Promise<boolean> {
  const st = await lstat(path);
  if ((st.mode & EXPIRE_MODE_BIT) !== 0) return false;
  await chmod(path, (st.mode & 0o7777) | EXPIRE_MODE_BIT);
  return true;
}

/** Every message ID in these queues (hashed levels included). */
export async function allIds(
  layout: QueueLayout,
  queues: readonly string[],
): Promise<{ queue: string; id: string }[]> {
  const out: { queue: string; id: string }[] = [];
  for (const q of queues)
    for (const f of await listQueue(layout, q)) if (f.ok) out.push({ queue: q, id: f.name });
  return out;
}

interface Listed {
  readonly name: string;
  readonly path: string;
  /** The name is a queue ID. */
  readonly ok: boolean;
}

/** Every file in a queue, hashed levels included, queue ID or not. */
async function listQueue(layout: QueueLayout, queue: string): Promise<Listed[]> {
  const out: Listed[] = [];
  async function walk(dir: string, level: number): Promise<void> {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of names) {
      const path = join(dir, e.name);
      // Hashed subdirectories: one character each; walk them even where the queue is not hashed (-s repairs).
      if (e.isDirectory()) {
        if (e.name.length === 1 && level < 16) await walk(path, level + 1);
      } else if (e.isFile()) {
        out.push({ name: e.name, path, ok: isQueueId(e.name) });
      }
    }
  }
  await walk(join(layout.directory, queue), 0);
  return out;
}

/** A writer's temporary name (queue_file_writer.ts: t<pid>.<n>.<hex>). */
const TEMP_NAME = /^t\d+\.\d+\.[0-9a-f]+$/;

/**
 * -p: remove temporary files older than `maxAgeSec` (a writer that died);
 * other names that are not queue IDs get Postfix's "bogus file name"
 * warning. Returns the number removed.
 */
export async function purgeTemporary(
  layout: QueueLayout,
  queues: readonly string[],
  maxAgeSec: number,
  now = Date.now() / 1000,
): Promise<number> {
  let n = 0;
  for (const q of queues) {
    for (const f of await listQueue(layout, q)) {
      if (f.ok) continue;
      if (!TEMP_NAME.test(f.name)) {
        msg.warn(`bogus file name: ${q}/${relativeName(layout, q, f.path)}`);
        continue;
      }
      try {
        const st = await lstat(f.path);
        if (st.mtimeMs / 1000 > now - maxAgeSec) continue;
        await unlink(f.path);
        await syncQueueDir(dirname(f.path));
        n++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
  return n;
}

function relativeName(layout: QueueLayout, queue: string, path: string): string {
  return path.slice(join(layout.directory, queue).length + 1);
}

/**
 * -s: put every queue file where its name says it belongs (hashed
 * subdirectories as hash_queue_names/hash_queue_depth say now), and give
 * a short-ID file whose inode is not the one in its name a name that
 * matches (the queue was restored from a backup: IDs must stay unique
 * among files that exist at once). Returns the count of such renames.
 */
export async function fixStructure(
  layout: QueueLayout,
  queues: readonly string[],
): Promise<{ moved: number; renamed: number }> {
  let moved = 0;
  let renamed = 0;
  for (const q of queues) {
    const isLog = LOG_QUEUES.includes(q);
    for (const f of await listQueue(layout, q)) {
      if (!f.ok) {
        msg.warn(`bogus file name: ${q}/${relativeName(layout, q, f.path)}`);
        continue;
      }
      let name = f.name;
      if (!isLog) {
        const p = parseQueueId(name);
        const st = await lstat(f.path).catch(() => null);
        if (st === null) continue;
        if (p?.form === 'short' && p.inode !== BigInt(st.ino)) {
          const fresh = name.slice(0, 5) + st.ino.toString(16).toUpperCase();
          if (!(await exists(queueFilePath(layout, q, fresh)))) {
            name = fresh;
            renamed++;
          }
        }
      }
      const want = queueFilePath(layout, q, name);
      if (want === f.path) continue;
      await moveFile(f.path, want);
      if (name === f.name) moved++;
      // A renamed message keeps its logs: they follow the new name.
      if (name !== f.name)
        for (const log of ['bounce', 'defer', 'trace'])
          await moveFile(queueFilePath(layout, log, f.name), queueFilePath(layout, log, name)).catch(
            () => {},
          );
    }
  }
  return { moved, renamed };
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !(await exists(from))) throw e;
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    await rename(from, to);
  }
  await Promise.all([syncQueueDir(dirname(to)), syncQueueDir(dirname(from))]);
}
