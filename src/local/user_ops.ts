/*
 * user_ops - the file work done with a recipient's rights: append to an
 * mbox file, add a Maildir message, read a .forward or :include: file
 *
 * runAs() does it in this process when there is nobody to switch to (not
 * root, or the target is this process's own uid), otherwise in a child
 * process started with the target uid/gid (src/local/user_worker.ts), so
 * the kernel checks every open, create and symlink as it would for the
 * user: a trick in the user's own directories can only hurt that user.
 * Failures come back as MailboxError (status decides defer or bounce).
 */

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LockRetry } from '../global/dotlock.js';
import { deliverMaildir } from '../global/maildir.js';
import { deliverMbox, type LockMethod } from '../global/mbox.js';
import { strerror } from '../util/strerror.js';
import { chunks, MailboxError, type MessageSource } from './mailbox_copy.js';

export type UserOp =
  | {
      readonly op: 'mbox';
      readonly path: string;
      readonly sender: string;
      readonly prefix: string;
      readonly lock: readonly LockMethod[];
      readonly retry: LockRetry;
      readonly sizeLimit: number;
    }
  | { readonly op: 'maildir'; readonly dir: string; readonly prefix: string; readonly sizeLimit: number }
  | { readonly op: 'read'; readonly path: string; readonly limit: number };

/** What an op found: for read, the text and the file's owner and mode. */
export interface OpResult {
  readonly text?: string;
  readonly uid?: number;
  readonly mode?: number;
  /** read: the file does not exist. */
  readonly missing?: boolean;
}

export interface Privs {
  readonly uid: number;
  readonly gid: number;
}

/** Do the op here, with this process's rights. */
export async function doOp(op: UserOp, content?: MessageSource): Promise<OpResult> {
  if (op.op === 'mbox') {
    await deliverMbox({ ...op, content: content ?? '' });
    return {};
  }
  if (op.op === 'maildir') {
    await deliverMaildir({ dir: op.dir, prefix: op.prefix, content: content ?? '', sizeLimit: op.sizeLimit });
    return {};
  }
  return readSmall(op.path, op.limit);
}

async function readSmall(path: string, limit: number): Promise<OpResult> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw new MailboxError('4.3.0', `cannot open file ${path}: ${strerror(e)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MailboxError('5.3.0', `file ${path} is not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, limit));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return { text: buf.subarray(0, bytesRead).toString('utf8'), uid: st.uid, mode: st.mode };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

const WORKER = fileURLToPath(new URL('./user_worker.js', import.meta.url));

function needSwitch(p: Privs | undefined): p is Privs {
  return p !== undefined && typeof process.getuid === 'function' && process.getuid() === 0 && p.uid !== 0;
}

/** Do the op with `privs`' rights (see the header). */
export async function runAs(
  privs: Privs | undefined,
  op: UserOp,
  content?: MessageSource,
): Promise<OpResult> {
  if (!needSwitch(privs)) return doOp(op, content);
  const child = spawn(process.execPath, [WORKER], {
    uid: privs.uid,
    gid: privs.gid,
    cwd: '/',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/bin:/bin', TZ: process.env.TZ ?? '' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d.length < 1 << 20 ? d : ''));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += err.length < 4096 ? d : ''));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (code) => resolve(code));
  });
  const feed = (async () => {
    const write = (b: Uint8Array | string) =>
      new Promise<void>((resolve) => (child.stdin.write(b) ? resolve() : child.stdin.once('drain', resolve)));
    await write(`${JSON.stringify(op)}\n`);
    if (content !== undefined) for await (const c of chunks(content)) await write(c);
    child.stdin.end();
  })().catch(() => child.stdin.destroy());
  const code = await exited;
  await feed;
  const line = out.split('\n')[0] ?? '';
  let r: { ok?: boolean; status?: string; reason?: string; result?: OpResult } | undefined;
  try {
    r = JSON.parse(line);
  } catch {
    r = undefined;
  }
  if (r?.ok === true) return r.result ?? {};
  if (r?.ok === false) throw new MailboxError(r.status ?? '4.3.0', r.reason ?? 'delivery failed');
  throw new MailboxError(
    '4.3.0',
    `user delivery process failed (exit ${code}): ${err.trim().split('\n')[0] ?? ''}`,
  );
}
