/*
 * local - Postfix-compatible local delivery agent
 *
 *   node dist/src/local/main.js -n local -t unix    (started by master)
 *
 * Serves delivery requests from qmgr on private/<service>: aliases,
 * .forward files, mailboxes (mbox and Maildir), files, commands and
 * :include: files, as local(8) does (see recipient.ts and docs/local.md).
 * Run as root, every mailbox, file and command delivery happens with the
 * rights of the user it is for (user_ops.ts, command.ts).
 */

import { runDeliveryAgent } from '../global/deliver_agent.js';
import { LocalDelivery } from './recipient.js';
import { localSettings } from './settings.js';
import { closeUserWorkers } from './user_ops.js';

let agent: LocalDelivery | undefined;

runDeliveryAgent({
  program: 'local',
  init(ctx) {
    process.umask(0o077);
    agent = new LocalDelivery(localSettings(ctx.cfg));
  },
  async deliver(job) {
    if (agent === undefined) throw new Error('local: not initialised');
    await agent.deliver(job);
  },
  stop() {
    agent?.close();
    closeUserWorkers();
  },
});
