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

import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { MainConfig } from '../global/config.js';
import {
  capLine,
  checkPrefix,
  formatLogLine,
  logHostName,
  MaillogWriter,
  mailTask,
} from '../global/maillog.js';
import { msg } from '../global/msg.js';
import { postlogPath } from '../postlogd/postlogd.js';

export interface CommandLogOptions {
  /** Copy lines to stderr: always (postsuper, postqueue) or only when it is a terminal (postlog). */
  readonly stderr: 'always' | 'tty';
  /** The log ident; default $syslog_name/<program>. */
  readonly ident?: string;
  /**
   * A maillog_file this user may not append to: hand lines to postlogd
   * (public/postlog) instead of stopping, as Postfix's postlog does.
   */
  readonly viaPostlogd?: boolean;
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
      if (!opts.viaPostlogd) msg.fatal((e as Error).message);
      writer = null;
      viaPostlogd(cfg, ident, toStderr);
      return;
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

/**
 * Lines through postlogd's FIFO, each one non-blocking write of at most
 * PIPE_BUF bytes (src/postlogd/client.ts); a line postlogd cannot take
 * (not running, busy) goes to stderr rather than being lost.
 */
function viaPostlogd(cfg: MainConfig, ident: string, toStderr: boolean): void {
  const fifo = postlogPath(cfg);
  const host = logHostName(cfg.get('myhostname'));
  let fd = -1;
  msg.setSink((_level, line) => {
    const prefix = `${msg.program}: `;
    const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
    const record = capLine(formatLogLine(new Date(), host, ident, process.pid, text));
    let sent = false;
    try {
      if (fd < 0) fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, record);
      sent = true;
    } catch {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    }
    if (toStderr || !sent) process.stderr.write(`${line}\n`);
  });
}
