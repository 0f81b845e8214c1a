/*
 * showq - the queue listing service (Postfix's showq(8))
 *
 *   node dist/src/showq/main.js -n showq -t unix    (master.cf: showq unix n - n - - showq)
 *
 * Listens on $queue_directory/public/showq so that any user's postqueue
 * or mailq can list a queue only the mail system may read. Protocol (see
 * docs/daemons.md, "showq"): the client sends one request line, "text"
 * (mailq / postqueue -p) or "json" (postqueue -j); the service writes the
 * listing and closes the connection. Anything else gets no listing: the
 * connection is closed and a warning logged.
 *
 * Guarantees: a request line longer than 64 bytes, or one that does not
 * arrive within $ipc_timeout, ends the connection; the listing is streamed
 * a message at a time with backpressure, so neither a large queue nor a
 * slow client grows memory; a client that goes away ends the scan; files that cannot be read are
 * left out (listing.ts), so one damaged queue file never breaks mailq.
 */

import type { Socket } from 'node:net';
import { msg } from '../global/msg.js';
import { runService, type ServiceContext } from '../master/service.js';
import { listingChunks } from './listing.js';

const MAX_REQUEST = 64;

function serve(sock: Socket, ctx: ServiceContext): void {
  let buf = '';
  let done = false;
  sock.setEncoding('utf8');
  sock.on('error', () => {});
  sock.setTimeout(ctx.cfg.time('ipc_timeout', 's') * 1000, () => sock.destroy());
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (buf.length > MAX_REQUEST) {
        msg.warn('request too long; closing connection');
        sock.destroy();
      }
      return;
    }
    done = true;
    const request = buf.slice(0, nl).trim();
    if (request !== 'text' && request !== 'json') {
      msg.warn(`unknown request: ${JSON.stringify(request.slice(0, MAX_REQUEST))}; closing connection`);
      sock.destroy();
      return;
    }
    void (async () => {
      sock.setTimeout(0);
      for await (const chunk of listingChunks(ctx.layout, request)) {
        if (sock.destroyed) return;
        // Backpressure: a slow reader holds up the scan, not our memory.
        if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r).once('close', r));
      }
      sock.end();
    })().catch((e: unknown) => {
      msg.warn(`queue scan: ${e instanceof Error ? e.message : String(e)}`);
      sock.destroy();
    });
  });
}

runService({ program: 'showq', kind: 'connection', connection: serve });
