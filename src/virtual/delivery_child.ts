/*
 * delivery_child - one virtual(8) mailbox delivery in a process that runs
 * as the mailbox owner (see delivery.ts)
 *
 * Reads the order from the IPC channel and the message from standard
 * input, delivers, sends the result back and exits. It writes no log:
 * warnings travel back in the result.
 */

import { msg } from '../global/msg.js';
import { type DeliveryOrder, deliverHere } from './delivery.js';

const warnings: string[] = [];
msg.setSink((level, line) => {
  if (level === 'warning' || level === 'error')
    warnings.push(line.replace(/^[^:]*: (?:warning|error): /u, ''));
});
msg.setExitOnFatal(false);

process.once('message', (order: DeliveryOrder) => {
  void (async () => {
    const result = await deliverHere(order, process.stdin, warnings);
    process.stdin.destroy();
    process.send?.(result, () => process.exit(0));
  })();
});
process.on('disconnect', () => process.exit(0));
