/*
 * bounce_client - requests to the bounce, defer and trace services
 *
 * The per-recipient logs live with those services (docs/daemons.md); a
 * delivery agent appends a record, qmgr asks for the notices. One
 * persistent connection per service and process. Every call throws
 * (RpcError, or Error with the service's reason) when the record or the
 * notice could not be made: the caller decides what that means (a failed
 * bounce append defers the recipient; a failed defer append leaves it to do).
 */

import type { MainConfig } from './config.js';
import type { DsnAction } from './dsn.js';
import { RpcClient, type RpcMessage } from './rpc.js';

export type PerRecipientLog = 'bounce' | 'defer' | 'trace';

export interface LogRecipient {
  readonly address: string;
  readonly orig?: string;
  readonly dsn_orcpt?: string;
  readonly dsn_notify?: number;
  readonly offset: number;
}

export interface LogEntry {
  readonly recipient: LogRecipient;
  /** "5.1.1" */
  readonly status: string;
  readonly action: DsnAction;
  readonly reason: string;
  /** "local", "host[addr]:port", "none" */
  readonly relay: string;
}

/** What the notice requests need to know of the message. */
export interface NoticeTarget {
  readonly queue_name: string;
  readonly queue_id: string;
  readonly sender: string;
  readonly dsn_envid?: string;
  readonly dsn_ret?: number;
  /** DEL_REQ_FLAG bits (trace flush: VERIFY or RECORD asks for the delivery report of sendmail -bv/-v). */
  readonly flags?: number;
}

const clients = new Map<string, RpcClient>();

function client(cfg: MainConfig, log: PerRecipientLog): RpcClient {
  const name = cfg.get(`${log}_service_name`);
  const path = `${cfg.get('queue_directory')}/private/${name}`;
  let c = clients.get(path);
  if (c === undefined) {
    c = new RpcClient(path, { timeoutMs: cfg.time('ipc_timeout', 's') * 1000 });
    clients.set(path, c);
  }
  return c;
}

async function call(cfg: MainConfig, log: PerRecipientLog, req: RpcMessage): Promise<void> {
  const r = await client(cfg, log).call(req);
  if (r.status !== 0) throw new Error(typeof r.reason === 'string' ? r.reason : `${log} service failure`);
}

/** Append one recipient record to the message's bounce, defer or trace log. */
export function logAppend(
  cfg: MainConfig,
  log: PerRecipientLog,
  queueId: string,
  e: LogEntry,
): Promise<void> {
  return call(cfg, log, { request: 'append', queue_id: queueId, ...e });
}

/** Send the non-delivery notice for the bounce log, then remove the log. */
export function bounceFlush(cfg: MainConfig, t: NoticeTarget): Promise<void> {
  return call(cfg, 'bounce', { request: 'flush', ...t });
}

/** Send a delay warning from the defer log (the log stays). */
export function deferWarn(cfg: MainConfig, t: NoticeTarget): Promise<void> {
  return call(cfg, 'defer', { request: 'warn', ...t });
}

/** Send the success notice for the trace log, then remove the log. */
export function traceFlush(cfg: MainConfig, t: NoticeTarget): Promise<void> {
  return call(cfg, 'trace', { request: 'flush', ...t });
}

/** Close the connections (tests, process exit). */
export function closeBounceClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}
