/*
 * delivery - write one message into one virtual mailbox, as the mailbox's
 * owner
 *
 *   const r = await deliverAs(ids, { kind: 'mbox', path, ... }, content);
 *
 * Postfix's virtual(8) runs as root and switches its effective uid/gid to
 * the recipient's for each delivery. Node cannot change its own ids per
 * operation, so as root a delivery is done by a worker process of local's
 * pool (src/local/user_ops.ts runAs, src/local/user_worker.ts): started as
 * root (the program files need not be readable by mail users), it sets
 * its groups, gid and uid for good to the looked-up ones and checks they
 * took before it touches any mailbox file, and is kept a few seconds for
 * the next delivery to the same uid/gid. The message streams to it and
 * counts as whole only after its end frame: a queue file that cannot be
 * read to its end aborts the op and the worker undoes its half delivery.
 * Every file and directory of the delivery is made by that user, through
 * paths that user may change: a symbolic link planted in a user's mail
 * directory can never make root write elsewhere. Without root (ids null)
 * there is nothing to switch to and the delivery runs in this process,
 * as the user the agent runs as.
 *
 * The result is the outcome for the recipient: sent with Postfix's text,
 * or a failure with its enhanced status and reason, plus the warnings the
 * delivery gave (logged by the caller, the worker has no log of its own).
 */

import { constants } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import type { LockRetry } from '../global/dotlock.js';
import { deliverMaildir } from '../global/maildir.js';
import { deliverMbox, type LockMethod } from '../global/mbox.js';
import { MailboxError } from '../local/mailbox_copy.js';
import { runAs } from '../local/user_ops.js';
import { strerror } from '../util/strerror.js';

export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

export interface DeliveryOrder {
  readonly kind: 'mbox' | 'maildir';
  /** The mbox file, or the Maildir directory (ending in "/"). */
  readonly path: string;
  readonly sender: string;
  /** Return-Path, X-Original-To, Delivered-To, already formatted. */
  readonly prefix: string;
  readonly lock: readonly LockMethod[];
  readonly retry: LockRetry;
  readonly sizeLimit: number;
  /** strict_mailbox_ownership: an existing mbox must belong to this uid. */
  readonly ownerUid?: number;
}

export type DeliveryResult =
  | { readonly ok: true; readonly warnings: readonly string[] }
  | {
      readonly ok: false;
      readonly status: string;
      readonly reason: string;
      readonly code?: string;
      readonly warnings: readonly string[];
    };

/** Deliver in this process; `warnings` receives the delivery's warnings. */
export async function deliverHere(
  order: DeliveryOrder,
  content: AsyncIterable<Uint8Array>,
  warnings: string[],
): Promise<DeliveryResult> {
  try {
    if (order.kind === 'maildir') {
      await deliverMaildir({ dir: order.path, prefix: order.prefix, content, sizeLimit: order.sizeLimit });
    } else {
      if (order.ownerUid !== undefined && (await notOwned(order.path, order.ownerUid)))
        return notOwnedResult(order.path, warnings);
      await deliverMbox({
        path: order.path,
        sender: order.sender,
        prefix: order.prefix,
        content,
        lock: order.lock,
        retry: order.retry,
        sizeLimit: order.sizeLimit,
        mode: 0o600,
      });
    }
    return { ok: true, warnings };
  } catch (e) {
    return writeFailure(order, e, warnings);
  }
}

function notOwnedResult(path: string, warnings: string[]): DeliveryResult {
  warnings.push('specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch');
  return {
    ok: false,
    status: '4.2.0',
    reason: `delivery failed to mailbox ${path}: destination ${path} is not owned by recipient`,
    warnings,
  };
}

/** A mailbox writer's failure as virtual(8) reports it. */
function writeFailure(order: DeliveryOrder, e: unknown, warnings: string[]): DeliveryResult {
  const err =
    e instanceof MailboxError ? e : new MailboxError('4.3.0', `error writing message: ${strerror(e)}`);
  // The mailbox writers default to local(8)'s 5.2.0 where the cause says
  // nothing more specific; virtual(8) opens and creates with 4.2.0.
  const status = err.status === '5.2.0' ? '4.2.0' : err.status;
  const prefix =
    order.kind === 'mbox' ? `delivery failed to mailbox ${order.path}: ` : 'maildir delivery failed: ';
  return {
    ok: false,
    status,
    reason: prefix + err.message,
    ...(err.code === undefined ? {} : { code: err.code }),
    warnings,
  };
}

/**
 * An existing mbox that is not the recipient's, yet writable by it (as
 * Postfix checks the owner only after the file opened: a file it cannot
 * open fails with "cannot open file" first).
 */
async function notOwned(path: string, uid: number): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile() || st.uid === uid) return false;
  return access(path, constants.W_OK).then(
    () => true,
    () => false,
  );
}

/** Deliver as `ids` in a worker of that uid/gid, or here when ids is null. */
export async function deliverAs(
  ids: UserIds | null,
  order: DeliveryOrder,
  content: AsyncIterable<Uint8Array>,
): Promise<DeliveryResult> {
  if (ids === null) {
    let readError: unknown;
    const watched = async function* () {
      try {
        yield* content;
      } catch (e) {
        readError = e;
        throw e;
      }
    };
    const r = await deliverHere(order, watched(), []);
    return readError === undefined || r.ok ? r : readFailure(r, readError);
  }
  const warnings: string[] = [];
  if (order.kind === 'mbox' && order.ownerUid !== undefined && (await notOwnedBy(order.path, ids)))
    return notOwnedResult(order.path, warnings);
  try {
    if (order.kind === 'maildir')
      await runAs(
        ids,
        { op: 'maildir', dir: order.path, prefix: order.prefix, sizeLimit: order.sizeLimit },
        content,
        warnings,
      );
    else
      await runAs(
        ids,
        {
          op: 'mbox',
          path: order.path,
          sender: order.sender,
          prefix: order.prefix,
          lock: order.lock,
          retry: order.retry,
          sizeLimit: order.sizeLimit,
        },
        content,
        warnings,
      );
    return { ok: true, warnings };
  } catch (e) {
    // The worker itself failed (died, could not become the user): not the mailbox's fault.
    if (e instanceof MailboxError && e.message.startsWith('user delivery process')) return failure(e.message);
    // runAs reports a cut-off queue file as "error reading message", 4.3.0.
    if (e instanceof MailboxError && e.message.startsWith('error reading message: '))
      return { ok: false, status: e.status, reason: e.message, warnings };
    return writeFailure(order, e, warnings);
  }
}

/**
 * strict_mailbox_ownership with a shared worker: an existing mbox file of
 * another owner that the recipient could write (by its mode bits, with
 * the worker's only group) is refused before the worker opens it. Root
 * only looks here (lstat, no link followed); the write stays the
 * worker's, so a file changed after this look is still opened as the user.
 */
async function notOwnedBy(path: string, ids: UserIds): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile() || st.uid === ids.uid) return false;
  return (st.mode & 0o002) !== 0 || (st.gid === ids.gid && (st.mode & 0o020) !== 0);
}

/** The queue file could not be read to its end: that, not the mailbox, is the reason. */
function readFailure(r: DeliveryResult, e: unknown): DeliveryResult {
  return {
    ok: false,
    warnings: r.warnings,
    status: '4.3.0',
    reason: `error reading message: ${strerror(e)}`,
  };
}

function failure(text: string, detail = ''): DeliveryResult {
  const warnings = [`${text}${detail === '' ? '' : `: ${detail.trim().split('\n').slice(-1)[0] ?? ''}`}`];
  return { ok: false, status: '4.3.0', reason: 'delivery agent error', warnings };
}
