/*
 * master_lock - one master per configuration
 *
 * Postfix keeps $data_directory/master.lock locked while master runs and
 * writes its pid to $queue_directory/pid/master.pid ("%32lu\n"). Node has
 * no flock(), so the lock is the file's existence plus a live process:
 * master.lock is created atomically (write a temporary file, link() it
 * into place) and names its owner; a lock whose process is gone, or is not
 * a master (pid reused after a crash), is stale and taken over. The pid
 * file is written after the lock is held and both stay until master exits.
 */
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';
import { strerror } from '../util/strerror.js';

export interface LockPaths {
  readonly lock: string;
  readonly pid: string;
}

export function lockPaths(cfg: MainConfig): LockPaths {
  return {
    lock: join(cfg.get('data_directory'), 'master.lock'),
    pid: join(cfg.get('queue_directory'), 'pid', 'master.pid'),
  };
}

/** Postfix's pid file line: the pid right-aligned in 32 columns. */
export function pidLine(pid: number): string {
  return `${String(pid).padStart(32)}\n`;
}

function readPid(file: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(file, 'latin1').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Alive and, where /proc tells, running a master (not a recycled pid). */
export function isMasterProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return /master/.test(cmd);
  } catch {
    return true;
  }
}

/** The pid of the running master, or null. */
export function runningMaster(cfg: MainConfig): number | null {
  const paths = lockPaths(cfg);
  const pid = readPid(paths.lock);
  return pid !== null && isMasterProcess(pid) ? pid : null;
}

export type LockResult =
  | { kind: 'locked' }
  | { kind: 'running'; pid: number }
  | { kind: 'error'; text: string };

/** Take the lock for this process and write the pid file. */
export function acquireMasterLock(paths: LockPaths, pid = process.pid): LockResult {
  const tmp = `${paths.lock}.${pid}`;
  try {
    writeWhole(tmp, pidLine(pid), 0o600);
  } catch (e) {
    return { kind: 'error', text: `open lock file ${paths.lock}: ${strerror(e)}` };
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, paths.lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          return { kind: 'error', text: `open lock file ${paths.lock}: ${strerror(e)}` };
      }
      const other = readPid(paths.lock);
      if (other !== null && other !== pid && isMasterProcess(other)) return { kind: 'running', pid: other };
      unlinkQuiet(paths.lock);
      if (attempt === 2) return { kind: 'error', text: `lock file ${paths.lock}: keeps changing` };
    }
  } finally {
    unlinkQuiet(tmp);
  }
  try {
    mkdirSync(join(paths.pid, '..'), { recursive: true, mode: 0o755 });
    writeWhole(`${paths.pid}.tmp`, pidLine(pid), 0o600);
    renameSync(`${paths.pid}.tmp`, paths.pid);
  } catch (e) {
    unlinkQuiet(paths.lock);
    return { kind: 'error', text: `open lock file ${paths.pid}: ${strerror(e)}` };
  }
  return { kind: 'locked' };
}

/** Give the lock up (master exits); only our own lock is removed. */
export function releaseMasterLock(paths: LockPaths, pid = process.pid): void {
  if (readPid(paths.lock) === pid) unlinkQuiet(paths.lock);
}

function writeWhole(file: string, text: string, mode: number): void {
  const fd = openSync(file, 'w', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
