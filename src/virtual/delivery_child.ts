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
import { type ChildMessage, deliverHere } from './delivery.js';

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
      const result = await deliverHere(m.order, content(), warnings);
      process.stdin.destroy();
      process.send?.(result, () => process.exit(0));
    })();
  }
});
process.on('disconnect', () => {
  settle(false);
  setTimeout(() => process.exit(0), 1000).unref();
});
