/*
 * spool - what root does for a mailbox in mail_spool_directory before the
 * user's worker writes it: create it for the user, take the dot lock
 * (users may not create files in /var/mail), as Postfix does.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, unlink } from 'node:fs/promises';
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

/**
 * Create the mailbox for the user; an existing one is left alone. It is made
 * under a private name, given to the user and only then linked into place,
 * so a concurrent delivery never sees a root-owned mailbox (it would defer
 * it under strict_mailbox_ownership).
 */
export async function createForUser(path: string, u: UserAttr): Promise<void> {
  if (
    await lstat(path).then(
      () => true,
      () => false,
    )
  )
    return;
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (e) {
    throw new MailboxError('5.2.0', `cannot open file: ${strerror(e)}`);
  }
  try {
    try {
      await fh.chown(u.uid, u.gid);
    } finally {
      await fh.close();
    }
    await link(temp, path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new MailboxError('5.2.0', `cannot open file: ${strerror(e)}`);
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
