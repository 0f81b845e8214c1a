/*
 * dotlock - the "file.lock" convention for locking a mailbox
 *
 * A lock is the file <path>.lock, created with O_CREAT|O_EXCL (mode 0, as
 * Postfix makes it) so exactly one process succeeds. A busy lock is retried
 * deliver_lock_attempts times, deliver_lock_delay seconds apart; a lock
 * older than stale_lock_time (by its change time) is left over from a
 * crashed process and removed. mutt, procmail and Dovecot use the same
 * convention, so they and we exclude each other. Waiting never blocks the
 * event loop.
 */

import { open, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { strerror } from '../util/strerror.js';

export interface LockRetry {
  /** deliver_lock_attempts */
  readonly attempts: number;
  /** deliver_lock_delay, seconds */
  readonly delay: number;
  /** stale_lock_time, seconds */
  readonly stale: number;
}

export class DotLockError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'DotLockError';
  }
}

/** The lock for `path`; resolves to a function that removes it. */
export async function dotLock(path: string, retry: LockRetry): Promise<() => Promise<void>> {
  const lockFile = `${path}.lock`;
  for (let count = 1; ; count++) {
    try {
      const fh = await open(lockFile, 'wx', 0);
      await fh.close();
      return async () => {
        await unlink(lockFile).catch(() => undefined);
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' || count >= Math.max(1, retry.attempts)) {
        throw new DotLockError(`unable to create lock file ${lockFile}: ${strerror(e)}`, code);
      }
    }
    try {
      const st = await stat(lockFile);
      if (Date.now() / 1000 > st.ctimeMs / 1000 + retry.stale) await unlink(lockFile);
    } catch {
      // gone already: the next attempt will tell
    }
    await sleep(retry.delay * 1000);
  }
}
