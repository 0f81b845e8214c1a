/*
 * user_worker - one file operation with a recipient's rights
 *
 * Started by user_ops.runAs() with the recipient's uid and gid (no
 * supplementary groups). Reads one JSON op line from stdin, then the
 * message bytes until end of input; answers one JSON line on stdout:
 * {"ok":true,"result":{...}} or {"ok":false,"status":"5.2.0","reason":"..."}.
 * Files it creates are private to the user (umask 077), as Postfix's are.
 */

import { msg } from '../global/msg.js';
import { MailboxError } from './mailbox_copy.js';
import { doOp, type UserOp } from './user_ops.js';

process.umask(0o077);
msg.setProgram('postfix/local');

async function* rest(first: Buffer, it: AsyncIterator<unknown>): AsyncGenerator<Uint8Array> {
  if (first.length > 0) yield first;
  for (;;) {
    const n = await it.next();
    if (n.done) return;
    yield n.value as Buffer;
  }
}

async function main(): Promise<void> {
  let head = Buffer.alloc(0);
  const it = process.stdin[Symbol.asyncIterator]();
  let nl = -1;
  while (nl < 0) {
    const n = await it.next();
    if (n.done) break;
    head = Buffer.concat([head, n.value as Buffer]);
    nl = head.indexOf(0x0a);
    if (head.length > 1 << 20) break;
  }
  if (nl < 0) throw new MailboxError('4.3.0', 'no request');
  const op = JSON.parse(head.subarray(0, nl).toString('utf8')) as UserOp;
  const leftover = head.subarray(nl + 1);
  const needsContent = op.op !== 'read';
  const result = await doOp(op, needsContent ? rest(leftover, it) : undefined);
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const me =
      e instanceof MailboxError ? e : new MailboxError('4.3.0', e instanceof Error ? e.message : String(e));
    process.stdout.write(`${JSON.stringify({ ok: false, status: me.status, reason: me.message })}\n`, () =>
      process.exit(0),
    );
  },
);
