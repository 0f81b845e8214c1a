/*
 * biff - tell comsat(8) that mail arrived (biff = yes)
 *
 * As Postfix's local does after a UNIX mailbox delivery: one UDP datagram
 * "user@offset" (with its terminating null byte) to the biff service on
 * localhost (port 512), where offset is where the new message starts.
 * Fire and forget: nobody listening is normal.
 */

import { createSocket, type Socket } from 'node:dgram';

const BIFF_PORT = 512;
let sock: Socket | undefined;

export function biffNotify(user: string, offset: number): void {
  if (sock === undefined) {
    sock = createSocket('udp4');
    sock.on('error', () => undefined);
    sock.unref();
  }
  sock.send(Buffer.from(`${user}@${offset}\0`), BIFF_PORT, '127.0.0.1', () => undefined);
}
