/*
 * post_notice - queue a notice as a new message, through cleanup
 *
 * A notice is mail like any other: it enters the queue through the
 * cleanup service (docs/daemons.md, "The cleanup stream"), with address
 * mapping allowed and without CLEANUP_FLAG_BOUNCE (a notice cleanup
 * refuses must be retried, not bounced). The envelope sender is null for
 * notices to a sender, $double_bounce_sender@$myhostname for postmaster
 * notices, so that a failed postmaster notice is dropped rather than
 * bounced again.
 *
 * Guarantees: postNotice() resolves with the new queue ID only after
 * cleanup reported the message committed (status 0); anything else
 * rejects with NoticeFailed, and the caller keeps its log.
 */

import { CLEANUP_FLAG, CleanupClient } from '../global/cleanup_client.js';
import type { MainConfig } from '../global/config.js';
import { encodeBytes } from '../maps/bytes.js';
import type { Notice } from './dsn_notice.js';

export class NoticeFailed extends Error {
  override name = 'NoticeFailed';
}

/** The sender of postmaster notices: mail to it is discarded, ending bounce loops. */
export function doubleBounceAddress(cfg: MainConfig): string {
  return `${cfg.get('double_bounce_sender')}@${cfg.get('myhostname')}`;
}

/**
 * Queue `notice` from `sender`; the new queue ID. Gives up after
 * $ipc_timeout without an answer, so a stuck cleanup cannot hold a log
 * (and every request waiting on it) forever.
 */
export async function postNotice(cfg: MainConfig, sender: string, notice: Notice): Promise<string> {
  const seconds = cfg.time('ipc_timeout', 's');
  let client: CleanupClient | undefined;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      client?.abort();
      reject(new NoticeFailed(`cleanup: no answer in ${seconds} s`));
    }, seconds * 1000);
  });
  const opened = (c: CleanupClient) => {
    client = c;
    if (expired) c.abort();
  };
  try {
    return await Promise.race([submit(cfg, sender, notice, opened), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function submit(
  cfg: MainConfig,
  sender: string,
  notice: Notice,
  opened: (c: CleanupClient) => void,
): Promise<string> {
  let c: CleanupClient;
  try {
    c = await CleanupClient.open(cfg, CLEANUP_FLAG.MAP_OK);
  } catch (e) {
    throw new NoticeFailed((e as Error).message);
  }
  opened(c);
  try {
    const now = Date.now();
    await c.envelope({
      arrival: { sec: Math.trunc(now / 1000), usec: (now % 1000) * 1000 },
      sender,
      recipients: [{ address: notice.recipient }],
      attributes: { rewrite_context: 'local' },
    });
    await c.content(encodeBytes(notice.text));
    const r = await c.finish();
    if (r.status !== 0)
      throw new NoticeFailed(`cleanup refused the notice: ${r.reason || `status ${r.status}`}`);
    return r.queueId;
  } catch (e) {
    c.abort();
    if (e instanceof NoticeFailed) throw e;
    throw new NoticeFailed((e as Error).message);
  }
}
