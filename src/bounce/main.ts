/*
 * bounce - Postfix delivery status reports (bounce(8))
 *
 * SYNOPSIS
 *	node dist/src/bounce/main.js -n bounce|defer|trace -t unix [-o name=value]... [-v]
 *
 * DESCRIPTION
 *	One program, three master.cf services: $bounce_service_name,
 *	$defer_service_name and $trace_service_name (-n says which). Each
 *	keeps per-message logs in the queue directory of its own kind
 *	(bounce/, defer/, trace/; see src/bounce/log_file.ts) and answers
 *	newline-delimited JSON requests (src/global/rpc.ts; the client is
 *	src/global/bounce_client.ts):
 *	  append  every service: add one recipient record, synced before "status 0"
 *	          (a trace record's reason says "delivery via <relay>: ...")
 *	  flush   bounce: non-delivery notice, then the log is removed
 *	  warn    defer: delay warning, the log stays
 *	  flush   trace: success notice, then the log is removed
 *	Notices are new messages queued through cleanup
 *	(src/bounce/notify_service.ts).
 *
 * DIAGNOSTICS
 *	A request that does not parse is refused with a warning and an
 *	error reply; a notice that cannot be made (queue file unreadable,
 *	cleanup unavailable) gets {status: 1, reason} and its log is kept.
 *	Bad bounce parameters or templates are fatal at start-up, as in Postfix.
 *
 * CONFIGURATION PARAMETERS
 *	bounce_service_name, defer_service_name, trace_service_name,
 *	bounce_size_limit, bounce_template_file, notify_classes,
 *	bounce_notice_recipient, 2bounce_notice_recipient,
 *	delay_notice_recipient, double_bounce_sender, maximal_queue_lifetime,
 *	delay_warning_time, myhostname, cleanup_service_name, queue_directory.
 */

import { msg } from '../global/msg.js';
import { type RpcMessage, serveRpc } from '../global/rpc.js';
import { runService, type ServiceContext } from '../master/service.js';
import { strerror } from '../util/strerror.js';
import { noticeSettings } from './dsn_notice.js';
import { type LogName, LogStore } from './log_file.js';
import { flushBounce, flushTrace, type NotifyContext, warnDelay } from './notify_service.js';
import { parseBounceRequest } from './request.js';
import { loadTemplates } from './template_load.js';

let nc: NotifyContext | undefined;
let kind: LogName = 'bounce';

/** Which of the three services this process is, from its master.cf name. */
function serviceKind(ctx: ServiceContext): LogName {
  for (const k of ['bounce', 'defer', 'trace'] as const) {
    if (ctx.service === ctx.cfg.get(`${k}_service_name`)) return k;
  }
  return msg.fatal(
    `unknown service name "${ctx.service}": expected $bounce_service_name, $defer_service_name or $trace_service_name`,
  );
}

async function handle(req: RpcMessage): Promise<RpcMessage> {
  const ctx = nc as NotifyContext;
  const r = parseBounceRequest(req);
  if (typeof r === 'string') throw new Error(r);
  if (r.request === 'append') {
    // As Postfix's trace records say where the delivery went.
    const record =
      kind === 'trace' && r.record.relay !== 'none' && r.record.relay !== ''
        ? { ...r.record, reason: `delivery via ${r.record.relay}: ${r.record.reason}` }
        : r.record;
    try {
      await ctx.store.append(kind, r.queueId, record);
    } catch (e) {
      const reason = `${r.queueId}: append to ${kind} log: ${strerror(e)}`;
      msg.warn(reason);
      return { status: 1, reason };
    }
    return { status: 0 };
  }
  if (r.request === 'flush' && kind === 'bounce') return flushBounce(ctx, r);
  if (r.request === 'flush' && kind === 'trace') return flushTrace(ctx, r);
  if (r.request === 'warn' && kind === 'defer') return warnDelay(ctx, r);
  throw new Error(`${r.request}: not a request of the ${kind} service`);
}

runService({
  program: 'bounce',
  kind: 'connection',
  init(ctx) {
    kind = serviceKind(ctx);
    const templates = loadTemplates(ctx.cfg);
    nc = {
      cfg: ctx.cfg,
      store: new LogStore(ctx.layout),
      templates,
      settings: noticeSettings(ctx.cfg),
      queueLifetime: ctx.cfg.time('maximal_queue_lifetime', 'd', 0, 8640000),
    };
  },
  connection(sock, ctx) {
    serveRpc(sock, handle, { name: ctx.service });
  },
});
