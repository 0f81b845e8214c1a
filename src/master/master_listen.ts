/*
 * master_listen - open a service's listeners
 *
 * UNIX-domain sockets go in $queue_directory/public or private with mode
 * 0666 (the directory's mode is what restricts access: private/ is 0700,
 * public/ 0710 group $setgid_group) and, as root, owned by $mail_owner as
 * Postfix makes them. A stale socket file from an earlier run is replaced.
 * TCP listeners bind host:port. Every server pauses new connections, so
 * not a byte is read before the connection reaches the service process.
 *
 * A UNIX socket is bound under a temporary name and renamed into place
 * once listening: clients never find a name nobody listens on, and Node
 * (which unlinks the name a server bound when it closes) cannot remove
 * the socket when master closes its own server while the service keeps
 * accepting on it (master_proc.ts). Whoever stops the service removes
 * the name (removeListenerPath).
 */
import { chmodSync, chownSync, lstatSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { strerror } from '../util/strerror.js';
import type { ListenAddr } from './master_services.js';

export function addrText(a: ListenAddr): string {
  return a.kind === 'unix' ? a.path : `${a.host} port ${a.port}`;
}

/** Longest path a UNIX socket address holds (sun_path less its NUL). */
const SUN_PATH_MAX = 107;

export interface Listening {
  readonly server: Server;
  /** Closing `server` leaves the socket's name in place (see the header). */
  readonly releasable: boolean;
}

/** Listen on `addr`; rejects with Postfix-style text ("bind 127.0.0.1 port 25: Address already in use"). */
export function openListener(
  addr: ListenAddr,
  owner: { uid: number; gid: number } | null,
  onConnection: (sock: Socket) => void,
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true }, onConnection);
    const fail = (e: unknown) => reject(new Error(`bind ${addrText(addr)}: ${strerror(e)}`));
    // A temporary name that would not fit a socket address: bind the name itself (not releasable).
    let tmp = addr.kind === 'unix' ? `${addr.path}.${process.pid}.tmp` : '';
    if (addr.kind === 'unix' && Buffer.byteLength(tmp) > SUN_PATH_MAX) tmp = addr.path;
    const releasable = addr.kind === 'inet' || tmp !== addr.path;
    server.once('error', fail);
    server.once('listening', () => {
      server.off('error', fail);
      if (addr.kind === 'unix') {
        try {
          chmodSync(tmp, 0o666);
          if (owner) chownSync(tmp, owner.uid, owner.gid);
        } catch (e) {
          server.close();
          reject(new Error(`set permissions ${addr.path}: ${strerror(e)}`));
          return;
        }
        try {
          if (tmp !== addr.path) renameSync(tmp, addr.path);
        } catch (e) {
          server.close();
          fail(e);
          return;
        }
      }
      resolve({ server, releasable });
    });
    if (addr.kind === 'unix') {
      // A stale socket of an earlier run is replaced (by the rename); anything else is in the way.
      let inTheWay = false;
      try {
        inTheWay = !lstatSync(addr.path).isSocket();
      } catch {
        // Not there: nothing to replace.
      }
      if (inTheWay) {
        fail(Object.assign(new Error('in use'), { code: 'EADDRINUSE' }));
        return;
      }
      rmSync(tmp, { force: true });
      server.listen(tmp);
    } else {
      server.listen({ host: addr.host, port: addr.port, ipv6Only: false });
    }
  });
}

/** Remove a UNIX listener's name (the service is stopped); never throws. */
export function removeListenerPath(addr: ListenAddr): void {
  if (addr.kind !== 'unix') return;
  try {
    if (lstatSync(addr.path).isSocket()) unlinkSync(addr.path);
  } catch {
    // Already gone.
  }
}
