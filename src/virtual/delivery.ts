/*
 * delivery - write one message into one virtual mailbox, as the mailbox's
 * owner
 *
 *   const r = await deliverAs(ids, { kind: 'mbox', path, ... }, content);
 *
 * Postfix's virtual(8) runs as root and switches its effective uid/gid to
 * the recipient's for each delivery. Node cannot change its own ids per
 * operation, so a delivery as root runs in a short-lived child process
 * that, once its code is loaded (as root: the program files need not be
 * readable by mail users), sets its groups, gid and uid for good to the
 * looked-up ones and checks they took, before it touches any mailbox
 * file; the message streams to its standard input. Every file and directory of the delivery is
 * then made by that user, through paths that user may change: a symbolic
 * link planted in a user's mail directory can never make root write
 * elsewhere. Without root (ids null) there is nothing to switch to and
 * the delivery runs in this process, as the user the agent runs as.
 *
 * The result is the outcome for the recipient: sent with Postfix's text,
 * or a failure with its enhanced status and reason, plus the warnings the
 * delivery gave (logged by the caller, the child has no log of its own).
 */

import { fork } from 'node:child_process';
import { constants } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LockRetry } from '../global/dotlock.js';
import { deliverMaildir } from '../global/maildir.js';
import { deliverMbox, type LockMethod } from '../global/mbox.js';
import { MailboxError } from '../local/mailbox_copy.js';
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

/** Parent to child, over the IPC channel. */
export type ChildMessage =
  | { readonly type: 'order'; readonly order: DeliveryOrder; readonly ids: UserIds }
  | { readonly type: 'end' }
  | { readonly type: 'abort' };

const CHILD = fileURLToPath(new URL('./delivery_child.js', import.meta.url));

/** Deliver in this process; `warn` receives the delivery's warnings. */
export async function deliverHere(
  order: DeliveryOrder,
  content: AsyncIterable<Uint8Array>,
  warnings: string[],
): Promise<DeliveryResult> {
  try {
    if (order.kind === 'maildir') {
      await deliverMaildir({ dir: order.path, prefix: order.prefix, content, sizeLimit: order.sizeLimit });
    } else {
      if (order.ownerUid !== undefined && (await notOwned(order.path, order.ownerUid))) {
        warnings.push('specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch');
        return {
          ok: false,
          status: '4.2.0',
          reason: `delivery failed to mailbox ${order.path}: destination ${order.path} is not owned by recipient`,
          warnings,
        };
      }
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

/** Deliver as `ids` in a child process, or here when ids is null. */
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
  const child = fork(CHILD, [], {
    cwd: '/',
    // The From line is local time: the child keeps the agent's TZ (none means the system's).
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.TZ === undefined ? {} : { TZ: process.env.TZ }),
    },
    stdio: ['pipe', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4000) stderr += b.toString();
  });
  const answer = new Promise<DeliveryResult>((resolve) => {
    let done = false;
    child.once('message', (m) => {
      done = true;
      resolve(m as DeliveryResult);
    });
    child.once('error', (e) => {
      if (!done) resolve(failure(`cannot start delivery process: ${e.message}`));
      done = true;
    });
    child.once('exit', (code, signal) => {
      if (!done)
        resolve(
          failure(
            `delivery process ${signal ? `killed by signal ${signal}` : `exit status ${code}`}`,
            stderr,
          ),
        );
      done = true;
    });
  });
  child.send({ type: 'order', order, ids } satisfies ChildMessage);
  // The child must not take a cut-off message for a whole one: end of input
  // counts only after "end"; a read error here sends "abort" instead.
  let readError: unknown;
  const stdin = child.stdin;
  if (stdin !== null) {
    // A child that failed early closes its input: the rest of the message is not needed.
    stdin.on('error', () => {});
    try {
      for await (const chunk of content) {
        if (stdin.destroyed) break;
        if (!stdin.write(chunk)) await new Promise<void>((r) => stdin.once('drain', r).once('close', r));
      }
    } catch (e) {
      readError = e;
    }
    if (child.connected)
      child.send({ type: readError === undefined ? 'end' : 'abort' } satisfies ChildMessage);
    stdin.end();
  }
  const result = await answer;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  return readError === undefined || result.ok ? result : readFailure(result, readError);
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
