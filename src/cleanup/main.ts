/*
 * cleanup - canonicalize and enqueue Postfix messages
 *
 * SYNOPSIS
 *   node dist/src/cleanup/main.js -n cleanup -t unix [-o name=value] [-v]
 *
 * DESCRIPTION
 *   The cleanup daemon takes one message per client connection over the
 *   cleanup stream (docs/daemons.md): pickup, smtpd and the bounce
 *   service are its clients. It adds missing headers and a Received:
 *   header, applies header_checks, mime_header_checks,
 *   nested_header_checks and body_checks, maps and expands addresses
 *   (canonical, masquerading, virtual aliases, bcc), removes duplicate
 *   recipients, enforces message_size_limit and hopcount_limit, writes
 *   the queue file to incoming/ (or hold/), and wakes qmgr. The client
 *   hears "status=0" only once the queue file is safely on disk.
 *
 *   Started by hand (no master), it listens on its own socket,
 *   $queue_directory/public/cleanup when master.cf lists cleanup with
 *   private = n, else private/cleanup.
 *
 * CONFIGURATION PARAMETERS
 *   header_checks, body_checks and friends, message_size_limit,
 *   hopcount_limit, duplicate_filter_limit, enable_original_recipient,
 *   always_add_missing_headers, undisclosed_recipients_header,
 *   myhostname, mail_name, delay_warning_time.
 *
 * DIAGNOSTICS
 *   postfix/cleanup[pid]: lines through $maillog_file or standard error.
 */
import { loadParams } from '../global/config.js';
import { msg } from '../global/msg.js';
import { runService } from '../master/service.js';
import { loadContentChecks } from './checks_config.js';
import { closeMappers } from './mapping.js';
import { type CleanupEnv, serveMessage } from './message.js';
import { MIME_ERR_NESTING } from './mime_state.js';

let env: CleanupEnv | undefined;

/**
 * Postfix 3.7's cleanup queues mail nested deeper than mime_nesting_limit,
 * strict_* options on or off (recorded: test/golden/cleanup/nesting), so
 * the daemon does not reject on MIME_ERR_NESTING.
 */
async function acceptDeepNesting(c: Awaited<ReturnType<typeof loadContentChecks>>) {
  return { ...c, reportMask: c.reportMask & ~MIME_ERR_NESTING };
}

runService({
  program: 'cleanup',
  kind: 'connection',
  async init(ctx) {
    const p = loadParams(ctx.cfg, ['message_size_limit', 'hopcount_limit', 'duplicate_filter_limit']);
    env = {
      cfg: ctx.cfg,
      layout: ctx.layout,
      checks: await acceptDeepNesting(await loadContentChecks(ctx.cfg)),
      messageSizeLimit: p.message_size_limit as number,
      delayWarning: ctx.cfg.time('delay_warning_time', 'h', 0),
      ipcTimeoutMs: ctx.cfg.time('ipc_timeout', 's') * 1000,
    };
  },
  connection(sock) {
    if (env === undefined) {
      sock.destroy();
      return;
    }
    serveMessage(sock, env).catch((e: unknown) => {
      msg.warn(`cleanup: ${(e as Error).message}`);
      sock.destroy();
    });
  },
  async stop() {
    if (env) await closeMappers(env.cfg);
  },
});
