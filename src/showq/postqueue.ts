/*
 * postqueue - the user's view of the queue: list it (-p, -j) and ask for
 * deferred mail to go now (-f, -s site, -i queue_id); also mailq
 *
 * Listing goes through the showq service, so users need no access to the
 * queue. When showq does not answer, the superuser and the queue's owner
 * get the listing read directly, after Postfix's warning; others are told
 * the report is unavailable. Flushing triggers qmgr: 'F' for everything
 * (-f); for one site or message, the deferred files concerned get "now"
 * as their modification time (qmgr's retry time, as in Postfix) and qmgr
 * gets 'D'. Postfix asks its flush service for -s/-i; Postroom has none,
 * so -s picks the deferred messages with a recipient in that domain (see
 * docs/admin.md). Failures exit 69 (EX_UNAVAILABLE), as Postfix does.
 */

import { statSync, utimesSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { queueFilePath, queueLayout, scanQueue } from '../global/queue_dirs.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { isQueueId } from '../global/queue_id.js';
import { sendTrigger, servicePath } from '../master/trigger.js';
import { DomainList } from '../trivial-rewrite/domain_list.js';
import { strerror } from '../util/strerror.js';
import { listingChunks } from './listing.js';

/** sysexits.h EX_UNAVAILABLE: every postqueue failure. */
export const EX_UNAVAILABLE = 69;

export type ListFormat = 'text' | 'json';

/** The listing from showq; rejects with the errno-style error when showq cannot be reached. */
function askShowq(cfg: MainConfig, format: ListFormat): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(servicePath(cfg, 'public', 'showq'));
    const parts: Buffer[] = [];
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      sock.write(`${format}\n`);
    });
    sock.on('data', (b: Buffer) => parts.push(b));
    sock.on('error', (e) => reject(connected ? new Error(`read showq: ${strerror(e)}`) : e));
    sock.on('end', () => resolve(Buffer.concat(parts)));
    sock.setTimeout(cfg.time('ipc_timeout', 's') * 1000, () => sock.destroy(new Error('timeout')));
  });
}

/**
 * authorized_mailq_users / authorized_flush_users: a list of user names
 * (static:anyone by default). The superuser and the queue's owner are
 * never refused, as Postfix never refuses root and mail_owner.
 */
async function checkUser(cfg: MainConfig, param: string, what: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0 || ownsQueue(cfg, uid)) return;
  let name = String(uid);
  try {
    name = userInfo().username;
  } catch {
    // No password entry: the number is all there is to match.
  }
  const list = new DomainList(param, cfg.get(param), '', 'string');
  const answer = await list.match(name);
  await list.close();
  if (answer !== 'match')
    msg.fatal(`User ${name}(${uid}) is not allowed to ${what} the mail queue`, EX_UNAVAILABLE);
}

function ownsQueue(cfg: MainConfig, uid: number): boolean {
  try {
    return statSync(cfg.get('queue_directory')).uid === uid;
  } catch {
    return false;
  }
}

/** Who may read the queue directly: root, the queue's owner, $mail_owner. */
function mayReadQueue(cfg: MainConfig): boolean {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 || ownsQueue(cfg, uid);
}

/** Write to stdout and wait until it is taken (backpressure; nothing lost at exit). */
function writeOut(data: Buffer | string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(data, () => resolve()));
}

export async function showQueue(cfg: MainConfig, format: ListFormat): Promise<void> {
  await checkUser(cfg, 'authorized_mailq_users', 'view');
  let out: Buffer;
  try {
    out = await askShowq(cfg, format);
  } catch (e) {
    const why = `(Connect to the Postfix showq service: ${strerror(e)})`;
    if (!mayReadQueue(cfg))
      msg.fatal(`Queue report unavailable - mail system is down ${why}`, EX_UNAVAILABLE);
    msg.warn(`Mail system is down -- accessing queue directly ${why}`);
    for await (const chunk of listingChunks(queueLayout(cfg), format)) await writeOut(chunk);
    return;
  }
  await writeOut(out);
}

/** Trigger qmgr, or stop in Postfix's words when nobody listens. */
async function poke(cfg: MainConfig, bytes: string): Promise<void> {
  if (await sendTrigger(cfg, 'public', 'qmgr', bytes)) return;
  const path = servicePath(cfg, 'public', 'qmgr');
  try {
    statSync(path);
    msg.warn('connect to public/qmgr: Connection refused');
  } catch (e) {
    msg.warn(`unable to look up public/qmgr: ${strerror(e)}`);
  }
  msg.fatal('Cannot flush mail queue - mail system is down', EX_UNAVAILABLE);
}

/** postqueue -f: every deferred message is due now. */
export async function flushQueue(cfg: MainConfig): Promise<void> {
  await checkUser(cfg, 'authorized_flush_users', 'flush');
  await poke(cfg, 'F');
}

/** Make a deferred message due now: qmgr retries a deferred file once its mtime has passed. */
function makeDue(path: string, now: Date): boolean {
  try {
    utimesSync(path, now, now);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'EACCES' || code === 'EPERM')
      msg.fatal('Cannot flush mail queue - mail system is down', EX_UNAVAILABLE);
    throw e;
  }
}

/** postqueue -s site. */
export async function flushSite(cfg: MainConfig, site: string): Promise<void> {
  await checkUser(cfg, 'authorized_flush_users', 'flush');
  const list = new DomainList(
    'fast_flush_domains',
    cfg.get('fast_flush_domains'),
    cfg.get('parent_domain_matches_subdomains'),
    'domain',
  );
  const answer = await list.match(site);
  await list.close();
  if (answer === 'retry') msg.fatal('Cannot flush mail queue - mail system is down', EX_UNAVAILABLE);
  if (answer !== 'match')
    msg.fatal(`Flush service is not configured for destination "${site}"`, EX_UNAVAILABLE);
  const layout = queueLayout(cfg);
  const domain = site.toLowerCase();
  const now = new Date();
  for await (const f of scanQueue(layout, 'deferred')) {
    const r = await openQueueFile(f.path);
    if (!r.ok) continue;
    const hit = r.file.pending.some(
      (rc) => rc.address.slice(rc.address.lastIndexOf('@') + 1).toLowerCase() === domain,
    );
    await r.file.close();
    if (hit) makeDue(f.path, now);
  }
  await poke(cfg, 'D');
}

/** postqueue -i queue_id. */
export async function flushMessage(cfg: MainConfig, id: string): Promise<void> {
  await checkUser(cfg, 'authorized_flush_users', 'flush');
  // A name that is not a queue ID never reaches the file system (no "../").
  if (isQueueId(id)) makeDue(queueFilePath(queueLayout(cfg), 'deferred', id), new Date());
  await poke(cfg, 'D');
}
