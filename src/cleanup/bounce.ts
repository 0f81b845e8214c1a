/*
 * bounce - return a refused local submission to its sender
 *
 * A client that set CLEANUP_FLAG_BOUNCE (pickup) has no one to tell that
 * its message was refused: like Postfix's cleanup, we then keep the
 * message long enough to bounce it. The caller has committed the queue
 * file to hold/ (never scanned by qmgr); here every recipient is logged
 * "status=bounced (reason)" with relay=none and appended to the bounce
 * log, the bounce service sends the non-delivery notice, and the file is
 * removed. True when the notice is on its way: the client may forget the
 * message. False (temporary trouble: no bounce service): the file is
 * removed all the same and the client keeps its copy to try again.
 */
import { bounceFlush } from '../global/bounce_client.js';
import { RecipientStatus } from '../global/deliver_status.js';
import { msg } from '../global/msg.js';
import { queueFilePath, removeQueueFile } from '../global/queue_dirs.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { splitReason } from './cleanup_stat.js';
import type { CleanupEnv } from './message.js';

export interface BounceRequest {
  readonly queueId: string;
  readonly sender: string;
  readonly arrival: { readonly sec: number; readonly usec: number };
  /** "5.7.1 text" */
  readonly reason: string;
  readonly dsnEnvid?: string;
  readonly dsnRet?: number;
}

const QUEUE = 'hold';

export async function bounceToSender(env: CleanupEnv, b: BounceRequest): Promise<boolean> {
  const { cfg, layout } = env;
  const opened = await openQueueFile(queueFilePath(layout, QUEUE, b.queueId), { write: true });
  if (!opened.ok) {
    msg.warn(`${b.queueId}: cannot return the message to its sender: ${opened.error.message}`);
    return false;
  }
  const file = opened.file;
  let ok = true;
  try {
    const { dsn, text } = splitReason(b.reason, '5.0.0');
    const status = new RecipientStatus(cfg, { queue_id: b.queueId }, file, {
      incomingArrival: b.arrival.sec * 1e6 + b.arrival.usec,
    });
    for (const r of file.pending) {
      const outcome = await status.bounce(
        {
          address: r.address,
          offset: r.offset,
          ...(r.orig === undefined ? {} : { orig: r.orig }),
          ...(r.dsnOrcpt === undefined ? {} : { dsn_orcpt: r.dsnOrcpt }),
          ...(r.dsnNotify === undefined ? {} : { dsn_notify: r.dsnNotify }),
        },
        { status: dsn, reason: text, relay: 'none' },
      );
      if (outcome !== 'bounced') ok = false;
    }
    if (ok) {
      await bounceFlush(cfg, {
        queue_name: QUEUE,
        queue_id: b.queueId,
        sender: b.sender,
        ...(b.dsnEnvid === undefined ? {} : { dsn_envid: b.dsnEnvid }),
        ...(b.dsnRet === undefined ? {} : { dsn_ret: b.dsnRet }),
      });
    }
  } catch (e) {
    msg.warn(`${b.queueId}: cannot return the message to its sender: ${(e as Error).message}`);
    ok = false;
  } finally {
    await file.close().catch(() => {});
    await removeQueueFile(layout, QUEUE, b.queueId).catch(() => false);
  }
  return ok;
}
