/*
 * discard - Postfix's discard(8): the delivery agent that throws mail away
 *
 *   master.cf: discard unix - - y - - discard
 *
 * Every recipient of a request is reported delivered ("sent") without the
 * message going anywhere, with relay=none. The nexthop is the reason
 * logged ("discard:gone away" in transport_maps, or the recipient domain
 * the resolver gives when the entry has none), with an optional leading
 * enhanced status code (default 2.0.0; another class is replaced by 2.0.0
 * with Postfix's warning).
 */

import { checkClass, dsnSplit } from '../error/nexthop.js';
import { runDeliveryAgent } from '../global/deliver_agent.js';

runDeliveryAgent({
  program: 'discard',
  async deliver(job) {
    const dsn = dsnSplit('2.0.0', job.req.nexthop);
    for (const r of job.req.recipients) {
      const status = checkClass('sent', dsn.status, '2.0.0');
      await job.status.sent(r, { status, relay: 'none', reason: dsn.text });
    }
  },
});
