/*
 * qmgr - Postroom's queue manager (process entry point)
 *
 * SYNOPSIS
 *   qmgr [generic daemon options]   (started by master: -n qmgr -t unix)
 *
 * A trigger service that stays up (keepAlive): it moves mail from the
 * incoming and deferred queues into the active queue, hands recipients to
 * delivery agents over private/<transport>, and removes, defers, expires
 * or bounces each message when its deliveries are settled (see qmgr.ts,
 * done.ts and docs/qmgr.md). Trigger bytes: A, I, D, F, W (docs/daemons.md).
 * On stop it exits without waiting for deliveries in progress: what is
 * left in active/ goes back to incoming/ at the next start, as in Postfix.
 */

import { runService } from '../master/service.js';
import { Qmgr } from './qmgr.js';

let qmgr: Qmgr | null = null;

runService({
  program: 'qmgr',
  kind: 'trigger',
  keepAlive: true,
  async init(ctx) {
    qmgr = new Qmgr(ctx.cfg, ctx.layout);
    await qmgr.start();
  },
  trigger(bytes) {
    qmgr?.trigger(bytes);
  },
  async stop() {
    await qmgr?.stop();
  },
});
