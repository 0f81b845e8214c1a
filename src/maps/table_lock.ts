/*
 * table_lock - one writer at a time per table file
 *
 * Postfix serialises writers of a table (postmap, postmap -i/-d, postalias)
 * with an exclusive lock on the table; a second writer waits. Node has no
 * flock/fcntl, so the lock is a file next to the table, "<file>.lock",
 * created with O_CREAT|O_EXCL and holding the owner's PID. A writer that
 * finds it waits, polling; a lock whose PID no longer runs (a writer that
 * crashed) is broken, under a second exclusive file "<file>.lock.break" so
 * that two waiters never both break it and one never deletes a lock just
 * taken by another. The wait is bounded: after LOCK_LIMITS.waitMs the open
 * fails with the holder's PID in the message. Locks held by this process
 * are removed when it exits, however it exits. Readers take no lock: they
 * see the old table or the new one (writeFileAtomic).
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';

export const LOCK_LIMITS = { waitMs: 120_000, pollMs: 50 };

const held = new Set<string>();
let exitHook = false;

/** The PID written in a lock file, or null (missing, empty, half-written). */
function holder(lock: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lock, 'latin1'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Remove a lock whose owner is gone; true when the caller may try again at once. */
function breakStale(lock: string): boolean {
  const pid = holder(lock);
  if (pid === null) {
    // Being written right now, or left empty by a crash: only age tells them apart.
    try {
      if (Date.now() - statSync(lock).mtimeMs < 5_000) return false;
    } catch {
      return true;
    }
  } else if (running(pid)) {
    return false;
  }
  const breaker = `${lock}.break`;
  if (!tryCreate(breaker)) {
    const other = holder(breaker);
    if (other !== null && !running(other)) unlinkQuietly(breaker);
    return false;
  }
  try {
    // Still the same dead owner? Then nobody can have taken the lock since.
    if (holder(lock) === pid) unlinkQuietly(lock);
  } finally {
    unlinkQuietly(breaker);
  }
  return true;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TableLockError extends Error {}

/**
 * Take the lock of table file `path`, waiting for another writer. Resolves
 * to the function that releases it. Rejects with TableLockError after the
 * bounded wait, or when the lock file cannot be created at all.
 */
export async function lockTable(path: string, limits = LOCK_LIMITS): Promise<() => void> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + limits.waitMs;
  let pause = 2;
  for (;;) {
    let created: boolean;
    try {
      created = tryCreate(lock);
    } catch (e) {
      throw new TableLockError(`lock ${lock}: ${(e as Error).message}`);
    }
    if (created) break;
    if (breakStale(lock)) continue;
    if (Date.now() >= deadline) {
      const pid = holder(lock);
      throw new TableLockError(
        `lock ${lock}: table is locked by ${pid === null ? 'another process' : `process ${pid}`}; gave up after ${Math.round(limits.waitMs / 1000)} seconds`,
      );
    }
    await sleep(pause);
    pause = Math.min(pause * 2, limits.pollMs);
  }
  held.add(lock);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const l of held) if (holder(l) === process.pid) unlinkQuietly(l);
    });
  }
  return () => {
    if (!held.delete(lock)) return;
    if (holder(lock) === process.pid) unlinkQuietly(lock);
  };
}
