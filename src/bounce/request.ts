/*
 * request - the bounce service's requests, checked field by field
 *
 * The client side is src/global/bounce_client.ts: "append" carries one
 * LogEntry, "flush" and "warn" a NoticeTarget. Anything that does not
 * parse is refused with a text saying what is wrong: the service never
 * acts on a half-understood request.
 */

import { DSN_ACTIONS, isValidStatus } from '../global/dsn.js';
import { QUEUE_NAMES } from '../global/queue_dirs.js';
import { isQueueId } from '../global/queue_id.js';
import type { RpcMessage } from '../global/rpc.js';
import type { LogRecord } from './log_file.js';

export interface AppendRequest {
  readonly request: 'append';
  readonly queueId: string;
  readonly record: LogRecord;
}

export interface NoticeRequestIn {
  readonly request: 'flush' | 'warn';
  readonly queueName: string;
  readonly queueId: string;
  readonly sender: string;
  readonly dsnEnvid: string | undefined;
  readonly dsnRet: number | undefined;
  /** DEL_REQ_FLAG bits of the message (0 when not given). */
  readonly flags: number;
}

export type BounceRequest = AppendRequest | NoticeRequestIn;

const str = (v: unknown): v is string => typeof v === 'string';
const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The request, or a text saying why it is refused. */
export function parseBounceRequest(m: RpcMessage, now = Date.now()): BounceRequest | string {
  const req = m.request;
  if (!str(req)) return 'request without a request name';
  if (!str(m.queue_id) || !isQueueId(m.queue_id)) return `${req}: bad queue_id`;
  const queueId = m.queue_id;
  if (req === 'append') {
    const r = m.recipient;
    if (typeof r !== 'object' || r === null) return 'append: no recipient';
    const rc = r as Record<string, unknown>;
    if (!str(rc.address)) return 'append: bad recipient address';
    if (!int(rc.offset)) return 'append: bad recipient offset';
    if (rc.orig !== undefined && !str(rc.orig)) return 'append: bad original recipient';
    if (rc.dsn_orcpt !== undefined && !str(rc.dsn_orcpt)) return 'append: bad dsn_orcpt';
    if (rc.dsn_notify !== undefined && !int(rc.dsn_notify)) return 'append: bad dsn_notify';
    if (!str(m.status) || !isValidStatus(m.status)) return 'append: bad status';
    if (!str(m.action) || !(DSN_ACTIONS as readonly string[]).includes(m.action)) return 'append: bad action';
    if (!str(m.reason)) return 'append: bad reason';
    if (!str(m.relay)) return 'append: bad relay';
    return {
      request: 'append',
      queueId,
      record: {
        recipient: rc.address,
        origRcpt: rc.orig ?? '',
        offset: rc.offset,
        dsnOrigRcpt: rc.dsn_orcpt ?? '',
        dsnNotify: rc.dsn_notify ?? 0,
        status: m.status,
        action: m.action,
        reason: m.reason,
        relay: m.relay,
        time: Math.trunc(now / 1000),
      },
    };
  }
  if (req === 'flush' || req === 'warn') {
    if (!str(m.queue_name) || !QUEUE_NAMES.includes(m.queue_name)) return `${req}: bad queue_name`;
    if (!str(m.sender)) return `${req}: bad sender`;
    if (m.dsn_envid !== undefined && !str(m.dsn_envid)) return `${req}: bad dsn_envid`;
    if (m.dsn_ret !== undefined && !int(m.dsn_ret)) return `${req}: bad dsn_ret`;
    if (m.flags !== undefined && !int(m.flags)) return `${req}: bad flags`;
    return {
      request: req,
      queueName: m.queue_name,
      queueId,
      sender: m.sender,
      dsnEnvid: m.dsn_envid,
      dsnRet: m.dsn_ret,
      flags: m.flags ?? 0,
    };
  }
  return `unknown request: ${JSON.stringify(req)}`;
}
