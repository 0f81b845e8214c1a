/*
 * delivery_child - one virtual(8) mailbox delivery in a process that runs
 * as the mailbox owner (see delivery.ts)
 *
 * Reads the order from the IPC channel and the message from standard
 * input, delivers, sends the result back and exits. The message counts as
 * whole only when the parent says "end" after the last byte; "abort", or
 * the parent going away, makes the delivery fail and be undone (the mbox
 * cut back, the Maildir temporary file removed). It writes no log:
 * warnings travel back in the result.
 */

import { msg } from '../global/msg.js';
import { type ChildMessage, deliverHere, type UserIds } from './delivery.js';

/** Drop root for good: groups, then gid, then uid. Undefined when done, else why not. */
function becomeUser(ids: UserIds): string | undefined {
  try {
    process.setgroups?.([ids.gid]);
    process.setgid?.(ids.gid);
    process.setuid?.(ids.uid);
  } catch (e) {
    return `cannot switch to uid/gid ${ids.uid}/${ids.gid}: ${(e as Error).message}`;
  }
  const now = [process.getuid?.(), process.geteuid?.(), process.getgid?.(), process.getegid?.()];
  const want = [ids.uid, ids.uid, ids.gid, ids.gid];
  if (now.some((v, i) => v !== want[i])) return `cannot switch to uid/gid ${ids.uid}/${ids.gid}`;
  return undefined;
}

const warnings: string[] = [];
msg.setSink((level, line) => {
  if (level === 'warning' || level === 'error')
    warnings.push(line.replace(/^[^:]*: (?:warning|error): /u, ''));
});
msg.setExitOnFatal(false);

let settle: (whole: boolean) => void = () => {};
const complete = new Promise<boolean>((resolve) => {
  settle = resolve;
});

async function* content(): AsyncGenerator<Uint8Array> {
  for await (const chunk of process.stdin) yield chunk as Buffer;
  if (!(await complete)) throw new Error('message content incomplete');
}

process.on('message', (m: ChildMessage) => {
  if (m.type === 'end') settle(true);
  else if (m.type === 'abort') settle(false);
  else if (m.type === 'order') {
    void (async () => {
      const failed = becomeUser(m.ids);
      const result =
        failed === undefined
          ? await deliverHere(m.order, content(), warnings)
          : { ok: false as const, status: '4.3.0', reason: 'delivery agent error', warnings: [failed] };
      process.stdin.destroy();
      process.send?.(result, () => process.exit(0));
    })();
  }
});
process.on('disconnect', () => {
  settle(false);
  setTimeout(() => process.exit(0), 1000).unref();
});
