/*
 * NAME
 *	mailq - list the mail queue (Sendmail-compatible name for postqueue -p)
 * SYNOPSIS
 *	mailq [-v] [-C config_dir]
 * DESCRIPTION
 *	Prints what "postqueue -p" prints, through the showq service, with
 *	the same fallback and diagnostics (src/showq/postqueue.ts). As with
 *	Postfix's sendmail -bp, -C names the configuration directory (or a
 *	main.cf file in it).
 */

import { basename, dirname } from 'node:path';
import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { EX_UNAVAILABLE, showQueue } from '../showq/postqueue.js';
import { getopt } from '../util/getopt.js';
import { exitQuietlyOnBrokenPipe } from '../util/stdio.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('postqueue');
exitQuietlyOnBrokenPipe();

async function main(): Promise<void> {
  const parsed = getopt(process.argv.slice(2), 'C:v');
  if (parsed.kind === 'error') {
    process.stderr.write(`mailq: ${parsed.message}\n`);
    return msg.fatal('usage: mailq [-C config_dir] [-v]', EX_UNAVAILABLE);
  }
  let configDir: string | undefined;
  for (const o of parsed.opts) {
    if (o.opt === 'C') configDir = basename(o.arg ?? '') === 'main.cf' ? dirname(o.arg ?? '') : o.arg;
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  await showQueue(loadMainConfig({ configDir }), 'text');
}

// A trigger's half-closed socket must not keep postqueue waiting for a slow qmgr.
main().then(
  () => process.exit(0),
  (e: unknown) => msg.fatal(strerror(e), EX_UNAVAILABLE),
);
