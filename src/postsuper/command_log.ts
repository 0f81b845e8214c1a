/*
 * command_log - where an admin command's messages go: its standard error
 * ("postsuper: Deleted: 1 message") and, when main.cf sets maillog_file,
 * the mail log ("Nov 25 10:57:27 host postfix/postsuper[pid]: Deleted: 1
 * message"), as Postfix's postsuper, postqueue and postlog do (they log to
 * syslog and echo to stderr).
 *
 * Guarantees: a maillog_file outside maillog_file_prefixes or that cannot
 * be opened stops the command in Postfix's words before it changes
 * anything; each log line is one append (MaillogWriter).
 */

import type { MainConfig } from '../global/config.js';
import { checkPrefix, formatLogLine, logHostName, MaillogWriter, mailTask } from '../global/maillog.js';
import { msg } from '../global/msg.js';

export interface CommandLogOptions {
  /** Copy lines to stderr: always (postsuper, postqueue) or only when it is a terminal (postlog). */
  readonly stderr: 'always' | 'tty';
  /** The log ident; default $syslog_name/<program>. */
  readonly ident?: string;
  /**
   * Without maillog_file: stderr gets the plain message (postsuper), or the
   * whole log line, as daemons write it there (postlog: logging is its job).
   */
  readonly noLogfile?: 'plain' | 'logline';
}

/** Route msg for command `program` (msg.setProgram must already name it). */
export function commandLog(cfg: MainConfig, program: string, opts: CommandLogOptions): void {
  const ident = opts.ident ?? mailTask(cfg.get('syslog_name'), program);
  const toStderr = opts.stderr === 'always' || process.stderr.isTTY === true;
  const path = cfg.get('maillog_file');
  let writer: MaillogWriter | null = null;
  if (path !== '') {
    const problem = checkPrefix(path, cfg.list('maillog_file_prefixes'));
    if (problem) msg.fatal(problem);
    writer = new MaillogWriter(path);
    try {
      writer.open();
    } catch (e) {
      msg.fatal((e as Error).message);
    }
  }
  const host = logHostName(cfg.get('myhostname'));
  const log = writer ?? (opts.noLogfile === 'logline' ? new MaillogWriter('/dev/stderr') : null);
  const plain = toStderr || log === null;
  msg.setSink((_level, line) => {
    if (plain && (writer !== null || log === null))
      process.stderr.write(`${line.replace(/[\uDC80-\uDCFF]/gu, '?')}\n`);
    if (log === null) return;
    const prefix = `${msg.program}: `;
    const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
    log.write(formatLogLine(new Date(), host, ident, process.pid, text));
  });
}
