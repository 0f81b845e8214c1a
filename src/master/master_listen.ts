/*
 * master_listen - open a service's listeners
 *
 * UNIX-domain sockets go in $queue_directory/public or private with mode
 * 0666 (the directory's mode is what restricts access: private/ is 0700,
 * public/ 0710 group $setgid_group) and, as root, owned by $mail_owner as
 * Postfix makes them. A stale socket file from an earlier run is replaced.
 * TCP listeners bind host:port. Every server pauses new connections, so
 * not a byte is read before the connection reaches the service process.
 */
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { strerror } from '../util/strerror.js';
import type { ListenAddr } from './master_services.js';

export function addrText(a: ListenAddr): string {
  return a.kind === 'unix' ? a.path : `${a.host} port ${a.port}`;
}

/** Listen on `addr`; rejects with Postfix-style text ("bind 127.0.0.1 port 25: Address already in use"). */
export function openListener(
  addr: ListenAddr,
  owner: { uid: number; gid: number } | null,
  onConnection: (sock: Socket) => void,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true }, onConnection);
    const fail = (e: unknown) => reject(new Error(`bind ${addrText(addr)}: ${strerror(e)}`));
    server.once('error', fail);
    server.once('listening', () => {
      server.off('error', fail);
      if (addr.kind === 'unix') {
        try {
          chmodSync(addr.path, 0o666);
          if (owner) chownSync(addr.path, owner.uid, owner.gid);
        } catch (e) {
          server.close();
          reject(new Error(`set permissions ${addr.path}: ${strerror(e)}`));
          return;
        }
      }
      resolve(server);
    });
    if (addr.kind === 'unix') {
      try {
        if (lstatSync(addr.path).isSocket()) unlinkSync(addr.path);
      } catch {
        // Not there: nothing to replace.
      }
      server.listen(addr.path);
    } else {
      server.listen({ host: addr.host, port: addr.port, ipv6Only: false });
    }
  });
}
