/*
 * mailbox_params - the main.cf parameters that govern mailbox writing, for
 * local(8) and virtual(8)
 *
 * local uses mailbox_delivery_lock and mailbox_size_limit, virtual uses
 * virtual_mailbox_lock and virtual_mailbox_limit; both share
 * deliver_lock_attempts, deliver_lock_delay and stale_lock_time. A lock
 * setting naming an unknown method stops the daemon at start-up, as
 * Postfix does.
 */

import type { MainConfig } from '../global/config.js';
import type { LockRetry } from '../global/dotlock.js';
import { type LockMethod, parseMboxLock } from '../global/mbox.js';
import { msg } from '../global/msg.js';

export interface MailboxSettings {
  readonly lock: readonly LockMethod[];
  readonly retry: LockRetry;
  /** Bytes; 0 means no limit. */
  readonly sizeLimit: number;
}

export function mailboxSettings(cfg: MainConfig, agent: 'local' | 'virtual'): MailboxSettings {
  const lockParam = agent === 'local' ? 'mailbox_delivery_lock' : 'virtual_mailbox_lock';
  // Literal names, so scripts/gen-params-used.mjs sees them read.
  const lockValue = agent === 'local' ? cfg.get('mailbox_delivery_lock') : cfg.get('virtual_mailbox_lock');
  const parsed = parseMboxLock(lockValue, lockParam);
  const lock = typeof parsed === 'string' ? msg.fatal(parsed) : parsed;
  return {
    lock,
    retry: {
      attempts: cfg.int('deliver_lock_attempts', 0),
      delay: cfg.time('deliver_lock_delay', 's', 1),
      stale: cfg.time('stale_lock_time', 's', 1),
    },
    sizeLimit: agent === 'local' ? cfg.long('mailbox_size_limit', 0) : cfg.long('virtual_mailbox_limit', 0),
  };
}
