/*
 * NAME
 *	postlog - Postroom-compatible logging utility
 * SYNOPSIS
 *	postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text...]
 * DESCRIPTION
 *	Logs the text (the arguments joined by spaces), or else each line of
 *	standard input, to the mail log as Postfix's postlog does:
 *	"Nov 25 10:58:07 host postfix/postlog[pid]: text" in maillog_file.
 *	-p priority: info (default), warn or warning, error, fatal, panic;
 *	all but info prefix the text with the level ("warning: text"), and
 *	none stops postlog. -t tag replaces "$syslog_name/postlog" as the
 *	ident. -i is accepted (the pid is always logged). Lines are copied to
 *	stderr when it is a terminal. A user who may not append to
 *	maillog_file logs through postlogd (public/postlog), and to stderr
 *	when postlogd does not take the line. Without maillog_file the whole
 *	log line goes to stderr (Postfix would use syslog, which Node cannot
 *	reach).
 * DIAGNOSTICS
 *	Exit 0 once logged; 1 for a bad option or priority, or a maillog_file
 *	outside maillog_file_prefixes.
 */

import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { commandLog } from '../postsuper/command_log.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('postlog');

const USAGE = 'usage: postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]';

/** The level words Postfix's postlog accepts, and the prefix each gives the text. */
const PRIORITIES: Readonly<Record<string, string>> = {
  info: '',
  warn: 'warning: ',
  warning: 'warning: ',
  error: 'error: ',
  fatal: 'fatal: ',
  panic: 'panic: ',
};

async function main(): Promise<void> {
  const parsed = getopt(process.argv.slice(2), 'c:ip:t:v');
  if (parsed.kind === 'error') {
    process.stderr.write(`postlog: ${parsed.message}\n`);
    return msg.fatal(USAGE);
  }
  let configDir: string | undefined;
  let priority = 'info';
  let tag: string | undefined;
  for (const o of parsed.opts) {
    if (o.opt === 'c') configDir = o.arg;
    else if (o.opt === 'p') priority = o.arg ?? '';
    else if (o.opt === 't') tag = o.arg;
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  const prefix = PRIORITIES[priority.toLowerCase()];
  if (prefix === undefined) return msg.fatal(`unknown priority value: ${priority}`);
  const cfg = loadMainConfig({ configDir });
  commandLog(cfg, 'postlog', {
    stderr: 'tty',
    noLogfile: 'logline',
    viaPostlogd: true,
    ...(tag === undefined ? {} : { ident: tag }),
  });
  if (parsed.operands.length > 0) {
    msg.info(prefix + parsed.operands.join(' '));
    return;
  }
  let rest = '';
  for await (const chunk of process.stdin) {
    rest += (chunk as Buffer).toString('utf8');
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) msg.info(prefix + line);
  }
  if (rest !== '') msg.info(prefix + rest);
}

main().catch((e: unknown) => msg.fatal(strerror(e)));
