/*
 * trigger - wake a service: connect to its socket, write a few bytes, close
 *
 * The way Postfix programs poke each other: sendmail/postdrop wake pickup,
 * cleanup tells qmgr "new mail" ('A'), master sends wakeups ('W'),
 * postqueue -f asks qmgr to flush ('F'). A trigger is a hint, never a
 * promise: the receiver rescans its queue, so a lost trigger only delays
 * mail until the next wakeup. sendTrigger therefore never throws; it
 * answers false when nobody listens or the socket does not answer in time.
 */

import { connect } from 'node:net';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';

export type ServiceClass = 'public' | 'private';

/** Where a unix service listens: $queue_directory/<class>/<name>. */
export function servicePath(cfg: MainConfig, cls: ServiceClass, name: string): string {
  return join(cfg.get('queue_directory'), cls, name);
}

/** Write `bytes` to the service at `path` and close; false when it is not there. */
export function triggerPath(path: string, bytes: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(false);
    }, timeoutMs);
    sock.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    sock.on('connect', () => {
      // Once the bytes are written the socket is of no more use: closing it
      // now means a slow receiver never holds up a short-lived command.
      sock.end(bytes, () => {
        clearTimeout(timer);
        sock.destroy();
        resolve(true);
      });
    });
  });
}

/** Wake `name` in the public or private directory of cfg's queue. */
export function sendTrigger(
  cfg: MainConfig,
  cls: ServiceClass,
  name: string,
  bytes: string,
): Promise<boolean> {
  return triggerPath(servicePath(cfg, cls, name), bytes);
}
