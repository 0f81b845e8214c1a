/*
 * pickup - Postfix local mail pickup
 *
 * SYNOPSIS
 *   node dist/src/pickup/main.js -n pickup -t unix [-o name=value] [-v]
 *
 * DESCRIPTION
 *   pickup waits for a trigger (sendmail and postdrop send one after
 *   dropping a file; master sends wakeups) and at start-up, then moves
 *   every file in $queue_directory/maildrop into the queue through the
 *   cleanup service (see pickup.ts). It logs "QID: uid=N from=<sender>"
 *   for each message. It stays up when idle.
 *
 *   Started by hand (no master), it listens on its own socket,
 *   $queue_directory/public/pickup when master.cf lists pickup with
 *   private = n, else private/pickup.
 *
 * CONFIGURATION PARAMETERS
 *   queue_directory, cleanup_service_name, receive_override_options.
 */
import { runService } from '../master/service.js';
import { Pickup } from './pickup.js';

let pickup: Pickup | undefined;

runService({
  program: 'pickup',
  kind: 'trigger',
  keepAlive: true,
  init(ctx) {
    pickup = new Pickup(ctx.cfg, ctx.layout);
    // Files may have waited while nobody ran: look at once.
    setImmediate(() => void pickup?.scan());
  },
  trigger() {
    void pickup?.scan();
  },
  async stop() {
    pickup?.halt();
    await pickup?.idle();
  },
});
