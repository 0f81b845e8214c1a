/*
 * done - what happens to a message once every delivery request is settled
 *
 * In Postfix's order (qmgr_active_done):
 *  1. A bounce log exists: ask the bounce service for the non-delivery
 *     notice (an empty log is just removed). A failure keeps the message.
 *  2. A trace log exists: ask the trace service for the success notice
 *     (the delivery report, for sendmail -bv/-v: the request's flags).
 *  3. Some recipient must be tried again and the message is older than
 *     $maximal_queue_lifetime ($bounce_queue_lifetime for the null
 *     sender): log "status=expired, returned to sender", turn every
 *     pending recipient into a bounce record (the reason of its defer
 *     record from this attempt, as Postfix returns the defer log) and
 *     flush it. Otherwise, when the delay warning time has come, ask the
 *     defer service for a warning and clear the warning time.
 *  4. Still something to do: set the file's time stamp to the next attempt
 *     (backoff = time in queue, between $minimal_backoff_time and
 *     $maximal_backoff_time) and move it to deferred/. Else remove it and
 *     log "ID: removed".
 * Guarantees: the queue file leaves active/ only after every step that
 * may need it; a recipient is marked done only after its bounce record
 * was made, so a failure anywhere leaves it to do (at least once).
 */

import { statSync, unlinkSync, utimesSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { bounceFlush, deferWarn, logAppend, traceFlush } from '../global/bounce_client.js';
import type { MainConfig } from '../global/config.js';
import { expiredLine, removedLine } from '../global/log_format.js';
import { msg } from '../global/msg.js';
import { moveQueueFile, type QueueLayout, queueFilePath, removeQueueFile } from '../global/queue_dirs.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { strerror } from '../util/strerror.js';
import { type ActiveMessage, deliverRecipient } from './message.js';
import type { QmgrParams } from './params.js';

export interface DoneContext {
  readonly cfg: MainConfig;
  readonly layout: QueueLayout;
  readonly params: QmgrParams;
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A per-message log's size, null when there is none (a stat that fails for any reason counts as none). */
function size(path: string): number | null {
  try {
    return statSync(path, { throwIfNoEntry: false })?.size ?? null;
  } catch {
    return null;
  }
}

export async function messageDone(ctx: DoneContext, m: ActiveMessage): Promise<void> {
  const { cfg, layout, params } = ctx;
  const bounceLog = queueFilePath(layout, 'bounce', m.id);
  const bounceSize = size(bounceLog);
  if (bounceSize === 0) {
    try {
      unlinkSync(bounceLog);
    } catch {}
  } else if (bounceSize !== null) {
    try {
      await bounceFlush(cfg, m.noticeTarget);
    } catch (e) {
      msg.warn(`${m.id}: bounce service: ${why(e)}`);
      m.deferred = true;
    }
  }
  if (size(queueFilePath(layout, 'trace', m.id)) !== null) {
    try {
      // The flags choose the report: sendmail -bv/-v's, or the DSN success notice.
      await traceFlush(cfg, { ...m.noticeTarget, ...(m.traceFlags === 0 ? {} : { flags: m.traceFlags }) });
    } catch (e) {
      msg.warn(`${m.id}: trace service: ${why(e)}`);
      m.deferred = true;
    }
  }
  const now = Date.now() / 1000;
  if (m.deferred) {
    const lifetime = m.sender === '' ? params.bounceQueueLifetime : params.maxQueueLifetime;
    if (m.forceExpire || now >= m.arrival.sec + lifetime) {
      await expire(ctx, m);
    } else if (m.warnTime > 0 && now >= m.warnTime - 1) {
      await warn(ctx, m);
    }
  }
  const active = queueFilePath(layout, 'active', m.id);
  if (m.deferred) {
    const inQueue = Math.floor(now) - m.arrival.sec;
    const delay = Math.max(params.minBackoff, Math.min(params.maxBackoff, inQueue));
    const when = Math.floor(now) + delay;
    // A file gone meanwhile was taken by postsuper: warn (Postfix's words) and forget it.
    try {
      utimesSync(active, when, when);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        msg.warn(`qmgr_active_defer: update ${active} time stamps: ${why(e)}`);
    }
    try {
      await moveQueueFile(layout, 'active', 'deferred', m.id, { sync: false });
    } catch (e) {
      msg.warn(`qmgr_active_defer: rename ${m.id} from active to deferred: ${errnoText(e)}`);
    }
    return;
  }
  try {
    if (await removeQueueFile(layout, 'active', m.id, { sync: false })) msg.info(removedLine(m.id));
    else msg.warn(`qmgr_active_done_3_generic: remove ${m.id} from active: No such file or directory`);
  } catch (e) {
    msg.warn(`qmgr_active_done_3_generic: remove ${m.id} from active: ${errnoText(e)}`);
  }
}

/** The system error text alone ("No such file or directory"), as %m prints it. */
function errnoText(e: unknown): string {
  return (e as NodeJS.ErrnoException).code === undefined ? why(e) : strerror(e);
}

async function warn(ctx: DoneContext, m: ActiveMessage): Promise<void> {
  try {
    await deferWarn(ctx.cfg, m.noticeTarget);
  } catch (e) {
    msg.warn(`${m.id}: defer service: ${why(e)}`);
    return;
  }
  const r = await openQueueFile(queueFilePath(ctx.layout, 'active', m.id), { write: true });
  if (!r.ok) return;
  try {
    await r.file.setWarnTime(0);
    m.warnTime = 0;
  } finally {
    await r.file.close();
  }
}

interface DeferRecord {
  readonly status?: string;
  readonly reason?: string;
  readonly relay?: string;
}

/** The last defer log record of each recipient (by queue file offset). */
async function deferRecords(layout: QueueLayout, id: string): Promise<Map<number, DeferRecord>> {
  const out = new Map<number, DeferRecord>();
  let text: string;
  try {
    text = await readFile(queueFilePath(layout, 'defer', id), 'utf8');
  } catch {
    return out;
  }
  for (const block of text.split(/\n\n+/)) {
    const f: Record<string, string> = Object.create(null);
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) f[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const off = Number(f.offset);
    if (f.offset === undefined || !Number.isSafeInteger(off)) continue;
    out.set(off, {
      ...(f.status === undefined ? {} : { status: f.status }),
      ...(f.reason === undefined ? {} : { reason: f.reason }),
      ...(f.relay === undefined ? {} : { relay: f.relay }),
    });
  }
  return out;
}

async function expire(ctx: DoneContext, m: ActiveMessage): Promise<void> {
  msg.info(expiredLine(m.id, m.sender, m.forceExpire ? 'force-expired' : 'expired'));
  const r = await openQueueFile(queueFilePath(ctx.layout, 'active', m.id), { write: true });
  if (!r.ok) return;
  const records = await deferRecords(ctx.layout, m.id);
  let left = 0;
  try {
    for (const rcpt of r.file.pending) {
      const d = records.get(rcpt.offset);
      try {
        await logAppend(ctx.cfg, 'bounce', m.id, {
          recipient: deliverRecipient(rcpt),
          status: d?.status ?? '4.7.0',
          action: 'failed',
          reason: d?.reason ?? 'message delivery expired',
          relay: d?.relay ?? 'none',
        });
        await r.file.markDone(rcpt);
      } catch (e) {
        msg.warn(`${m.id}: bounce record for ${rcpt.address}: ${why(e)}`);
        left++;
      }
    }
  } finally {
    await r.file.close();
  }
  try {
    await bounceFlush(ctx.cfg, m.noticeTarget);
  } catch (e) {
    msg.warn(`${m.id}: bounce service: ${why(e)}`);
    return;
  }
  if (left === 0) {
    m.deferred = false;
    await removeQueueFile(ctx.layout, 'defer', m.id).catch(() => false);
  }
}
