/*
 * error - Postfix's error(8) and retry(8): the delivery agent that fails
 * every recipient it is given
 *
 *   master.cf: error unix - - y - - error
 *              retry unix - - y - - error
 *
 * Run under any service name but "retry", every recipient of a request is
 * bounced; under the name "retry" every recipient is deferred. The
 * nexthop is the reason: "5.1.1 no such person" (from transport_maps
 * "error:5.1.1 no such person", or from qmgr), an optional enhanced status
 * code followed by the text. Without a code the status is 5.0.0 (bounce)
 * or 4.0.0 (retry); a code of the wrong class is replaced by that default
 * with Postfix's warning. Each recipient is logged with relay=none.
 */

import { runDeliveryAgent } from '../global/deliver_agent.js';
import { checkClass, dsnSplit } from './nexthop.js';

runDeliveryAgent({
  program: 'error',
  async deliver(job) {
    const retry = job.ctx.service === 'retry';
    const fallback = retry ? '4.0.0' : '5.0.0';
    const dsn = dsnSplit(fallback, job.req.nexthop);
    for (const r of job.req.recipients) {
      const status = checkClass(retry ? 'defer_append' : 'bounce_append', dsn.status, fallback);
      const detail = { status, relay: 'none', reason: dsn.text };
      if (retry) await job.status.defer(r, detail);
      else await job.status.bounce(r, detail);
    }
  },
});
