/*
 * NAME
 *	postqueue - Postroom queue control
 * SYNOPSIS
 *	postqueue [-v] [-c config_dir] -f
 *	postqueue [-v] [-c config_dir] -i queue_id
 *	postqueue [-v] [-c config_dir] -j
 *	postqueue [-v] [-c config_dir] -p
 *	postqueue [-v] [-c config_dir] -s site
 * DESCRIPTION
 *	-p lists the queue as mailq does, -j as one JSON object a message;
 *	both ask the showq service (public/showq) and read the queue directly,
 *	with a warning, when it is down and the user may. -f schedules every
 *	deferred message now; -s site the deferred mail for a site listed in
 *	fast_flush_domains; -i one deferred message (src/showq/postqueue.ts).
 *	Exactly one of -f -i -j -p -s is required.
 * DIAGNOSTICS
 *	Problems go to stderr in Postfix's words; every failure, including a
 *	usage error, exits 69 (EX_UNAVAILABLE), as Postfix's postqueue does.
 * CONFIGURATION PARAMETERS
 *	queue_directory, fast_flush_domains, parent_domain_matches_subdomains,
 *	ipc_timeout.
 */

import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { EX_UNAVAILABLE, flushMessage, flushQueue, flushSite, showQueue } from '../showq/postqueue.js';
import { getopt } from '../util/getopt.js';
import { exitQuietlyOnBrokenPipe } from '../util/stdio.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('postqueue');
exitQuietlyOnBrokenPipe();

const USAGE = 'usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site';

async function main(): Promise<void> {
  const parsed = getopt(process.argv.slice(2), 'c:fi:jps:v');
  if (parsed.kind === 'error') {
    process.stderr.write(`postqueue: ${parsed.message}\n`);
    return msg.fatal(USAGE, EX_UNAVAILABLE);
  }
  let configDir: string | undefined;
  const modes: { opt: string; arg?: string }[] = [];
  for (const o of parsed.opts) {
    if (o.opt === 'c') configDir = o.arg;
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
    else modes.push(o);
  }
  const mode = modes[0];
  if (modes.length !== 1 || mode === undefined || parsed.operands.length > 0)
    return msg.fatal(USAGE, EX_UNAVAILABLE);
  const cfg = loadMainConfig({ configDir });
  switch (mode.opt) {
    case 'p':
      return showQueue(cfg, 'text');
    case 'j':
      return showQueue(cfg, 'json');
    case 'f':
      return flushQueue(cfg);
    case 's':
      return flushSite(cfg, mode.arg ?? '');
    default:
      return flushMessage(cfg, mode.arg ?? '');
  }
}

// A trigger's half-closed socket must not keep postqueue waiting for a slow qmgr.
main().then(
  () => process.exit(0),
  (e: unknown) => msg.fatal(strerror(e), EX_UNAVAILABLE),
);
