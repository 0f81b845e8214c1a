/*
 * spool - what root does for a mailbox in mail_spool_directory before the
 * user's worker writes it: create it for the user, take the dot lock
 * (users may not create files in /var/mail), as Postfix does.
 */

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { DotLockError, dotLock, type LockRetry } from '../global/dotlock.js';
import type { LockMethod } from '../global/mbox.js';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { MailboxError } from './mailbox_copy.js';
import type { UserAttr } from './users.js';

/** Take the dot lock as root; undefined when it cannot be made but a kernel lock will do (Postfix warns and goes on). */
export async function spoolDotLock(
  path: string,
  lock: readonly LockMethod[],
  retry: LockRetry,
): Promise<(() => Promise<void>) | undefined> {
  try {
    return await dotLock(path, retry);
  } catch (e) {
    const code = e instanceof DotLockError ? e.code : undefined;
    if (code === 'EEXIST') throw new MailboxError('4.2.0', (e as Error).message, code);
    if (lock.length === 1) throw new MailboxError('5.2.0', (e as Error).message, code);
    msg.warn((e as Error).message);
    return undefined;
  }
}

/** Create the mailbox (O_EXCL, no symlink) and give it to the user; an existing one is left alone. */
export async function createForUser(path: string, u: UserAttr): Promise<void> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new MailboxError('5.2.0', `cannot open file: ${strerror(e)}`);
  }
  try {
    await fh.chown(u.uid, u.gid);
  } finally {
    await fh.close();
  }
}
