/*
 * virtual - Postfix's virtual(8): delivery to mailboxes of virtual domains
 *
 *   master.cf: virtual unix - n n - - virtual
 *
 * For each recipient of a request (an address in $virtual_mailbox_domains,
 * as trivial-rewrite decided), in lower case:
 *   virtual_mailbox_maps  the mailbox, relative to $virtual_mailbox_base;
 *                         a value ending in "/" is a Maildir, anything
 *                         else an mbox file. Not found: bounce 5.1.1
 *                         unknown user: "<address>".
 *   virtual_uid_maps      the owner; below $virtual_minimum_uid is refused.
 *   virtual_gid_maps      the group; 0 or less is refused.
 * A missing uid/gid, a bad one, or a table that cannot answer defers the
 * recipient with 4.3.5 "mail system configuration error" and a warning
 * saying why, as Postfix 3.7 does. The message gets Return-Path,
 * X-Original-To and Delivered-To headers; mbox files are locked as
 * $virtual_mailbox_lock says and limited to $virtual_mailbox_limit bytes
 * (as is each Maildir file). Run as root, files are written by a process
 * running as the looked-up uid/gid (delivery.ts, docs/virtual.md).
 * Log: "delivered to mailbox", "delivered to maildir", relay=virtual. An
 * address probe (DEL_REQ_FLAG.VERIFY) writes nothing: "delivers to ...".
 */

import { quote822Local } from '../global/address.js';
import { type DeliveryJob, runDeliveryAgent } from '../global/deliver_agent.js';
import { DEL_REQ_FLAG, type DeliverRecipient } from '../global/deliver_request.js';
import { msg } from '../global/msg.js';
import { deliveryHeaders } from '../local/mailbox_copy.js';
import { closeUserWorkers } from '../local/user_ops.js';
import { deliverAs, type UserIds } from './delivery.js';
import { type VirtualSettings, virtualSettings } from './settings.js';
import { VirtualTables } from './tables.js';

const RELAY = 'virtual';
let settings: VirtualSettings;
let tables: VirtualTables;

/** atol(3): leading white space, an optional sign, digits; anything else is 0. */
function atol(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/u.exec(text);
  return m?.[1] === undefined ? 0 : Number.parseInt(m[1], 10);
}

type IdAnswer = number | 'failed';

async function lookupId(user: string, param: 'virtual_uid_maps' | 'virtual_gid_maps'): Promise<IdAnswer> {
  const what = param === 'virtual_uid_maps' ? 'uid' : 'gid';
  const r = await tables.find(param, user);
  if (r.kind === 'retry') {
    msg.warn(`table ${param}: lookup ${user}: Application error`);
    return 'failed';
  }
  if (r.kind === 'notfound') {
    msg.warn(`recipient ${user}: not found in ${param}`);
    return 'failed';
  }
  const n = atol(r.value);
  if (what === 'uid' ? n < settings.minimumUid : n <= 0) {
    msg.warn(`recipient ${user}: bad ${what} ${r.value} in ${param}`);
    return 'failed';
  }
  return n;
}

async function deliverOne(job: DeliveryJob, r: DeliverRecipient): Promise<void> {
  const user = r.address.toLowerCase();
  const configError = () =>
    job.status.defer(r, { status: '4.3.5', relay: RELAY, reason: 'mail system configuration error' });
  const mailbox = await tables.find('virtual_mailbox_maps', user);
  if (mailbox.kind === 'retry') {
    msg.warn(`table virtual_mailbox_maps: lookup ${user}: Application error`);
    await configError();
    return;
  }
  if (mailbox.kind === 'notfound') {
    await job.status.bounce(r, { status: '5.1.1', relay: RELAY, reason: `unknown user: "${user}"` });
    return;
  }
  const uid = await lookupId(user, 'virtual_uid_maps');
  if (uid === 'failed') return void (await configError());
  const gid = await lookupId(user, 'virtual_gid_maps');
  if (gid === 'failed') return void (await configError());

  const kind = mailbox.value.endsWith('/') ? 'maildir' : 'mbox';
  if (((job.req.flags ?? 0) & DEL_REQ_FLAG.VERIFY) !== 0) {
    // An address probe (sendmail -bv, address verification): say where mail would go, write nothing.
    const reason = kind === 'mbox' ? 'delivers to mailbox' : 'delivers to maildir';
    await job.status.sent(r, { status: '2.0.0', relay: RELAY, reason });
    return;
  }
  const path = `${settings.base}/${mailbox.value}`;
  const asRoot = process.getuid?.() === 0;
  const ids: UserIds | null = asRoot ? { uid, gid } : null;
  const sender = quote822Local(job.req.sender);
  const result = await deliverAs(
    ids,
    {
      kind,
      path,
      sender: job.req.sender === '' ? '' : sender,
      prefix: deliveryHeaders({
        returnPath: job.req.sender === '' ? '' : sender,
        originalRecipient: quote822Local(r.orig ?? r.address),
        deliveredTo: quote822Local(r.address),
      }),
      lock: settings.lock,
      retry: settings.retry,
      sizeLimit: settings.sizeLimit,
      ...(asRoot && settings.strictOwner ? { ownerUid: uid } : {}),
    },
    job.content(),
  );
  for (const w of result.warnings) msg.warn(w);
  if (result.ok) {
    await job.status.sent(r, {
      status: '2.0.0',
      relay: RELAY,
      reason: kind === 'mbox' ? 'delivered to mailbox' : 'delivered to maildir',
    });
    return;
  }
  if (kind === 'maildir' && result.code === 'EACCES') {
    msg.warn(
      `maildir access problem for UID/GID=${uid}/${gid}: ${result.reason.replace(/^maildir delivery failed: /u, '')}`,
    );
    msg.warn('perhaps you need to create the maildirs in advance');
  }
  const detail = { status: result.status, relay: RELAY, reason: result.reason };
  if (result.status.startsWith('4')) await job.status.defer(r, detail);
  else await job.status.bounce(r, detail);
}

runDeliveryAgent({
  program: 'virtual',
  init(ctx) {
    settings = virtualSettings(ctx.cfg);
    tables = new VirtualTables(
      settings.maps,
      settings.recipientDelimiter,
      ctx.cfg.get('mydestination'),
      ctx.cfg.get('parent_domain_matches_subdomains'),
    );
  },
  async deliver(job) {
    for (const r of job.req.recipients) await deliverOne(job, r);
  },
  stop() {
    closeUserWorkers();
    return tables?.close();
  },
});
