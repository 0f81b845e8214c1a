/*
 * sendmail - Postfix to Sendmail compatibility interface
 *
 * SYNOPSIS
 *   sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid]
 *            [-C config] [-v] [recipient ...]
 *
 * DESCRIPTION
 *   Reads a message from standard input and leaves it in the maildrop
 *   queue, where the pickup daemon finds it; the mail system need not be
 *   running. Options, messages and exit statuses are those of Postfix
 *   3.7's sendmail: a fatal error exits 75 (EX_TEMPFAIL), a mode that
 *   needs running daemons (-bs -bp -bi -bv -q -I) exits 69
 *   (EX_UNAVAILABLE) for now.
 *
 *   Postfix's sendmail hands the message to the setgid postdrop command.
 *   Postroom is not installed setgid, so sendmail writes maildrop/ itself
 *   with the durable queue file writer (the file is complete or absent);
 *   the permission check is the directory's own (mode 0730, group
 *   postdrop). See src/cli/postdrop.ts for the stream form.
 */

import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { loadMainConfig, loadParams } from '../global/config.js';
import { FatalError, msg } from '../global/msg.js';
import { queueLayout } from '../global/queue_dirs.js';
import type { QueueRecipient } from '../global/queue_file.js';
import { sendTrigger } from '../master/trigger.js';
import { configDirOf } from '../sendmail/config_dir.js';
import { gecosName } from '../sendmail/gecos.js';
import { parseAddressList } from '../sendmail/headers.js';
import { EX_TEMPFAIL, EX_UNAVAILABLE, parseSendmailArgs } from '../sendmail/options.js';
import {
  type FixEndings,
  MessageTooBig,
  messageLines,
  type SubmitResult,
  submitMessage,
} from '../sendmail/submit.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('sendmail');

async function main(): Promise<void> {
  const parsed = parseSendmailArgs(process.argv.slice(2));
  if (parsed.kind === 'error') {
    for (const line of parsed.stderr) process.stderr.write(`${line}\n`);
    return msg.fatal(parsed.fatal, parsed.status);
  }
  const args = parsed.args;
  msg.setVerbose(args.verbose);
  for (const w of args.warnings) msg.warn(w);
  if (args.mode === 'later')
    msg.fatal(`${args.laterOption}: not available yet: this needs the running mail system`, EX_UNAVAILABLE);

  const cfg = loadMainConfig({ configDir: configDirOf(args.configDir) });
  const p = loadParams(cfg, ['message_size_limit', 'sendmail_fix_line_endings']);
  const layout = queueLayout(cfg);
  try {
    statSync(layout.directory);
  } catch (e) {
    msg.fatal(`chdir ${layout.directory}: ${strerror(e)}`, EX_TEMPFAIL);
  }
  const user = userInfo();
  const who = `${user.username}(${user.uid})`;
  const fix = String(p.sendmail_fix_line_endings) as FixEndings;

  const rcpt = (address: string): QueueRecipient =>
    args.dsnNotify === undefined ? { address } : { address, dsnNotify: args.dsnNotify };
  // Like Postfix, each argument is an address list: "a@b, Joe <c@d>" is two recipients.
  const recipients = args.recipients.flatMap((a) => parseAddressList(a));
  if (recipients.length === 0 && !args.extract)
    msg.fatal(
      `${who}: Recipient addresses must be specified on the command line or via the -t option`,
      EX_TEMPFAIL,
    );
  const attributes: Record<string, string> = { rewrite_context: 'local', submit_uid: String(user.uid) };
  const fullName = args.fullName ?? gecosName(user.uid);
  if (fullName !== undefined && fullName !== '') attributes.full_name = fullName;
  const lines = messageLines(process.stdin, {
    ignoreDots: args.ignoreDots,
    fix,
    sizeLimit: Number(p.message_size_limit),
  });
  let result: SubmitResult;
  try {
    result = await submitMessage(
      layout,
      {
        sender: args.sender ?? user.username,
        recipients: recipients.map(rcpt),
        attributes,
        ...(args.dsnEnvid === undefined ? {} : { dsnEnvid: args.dsnEnvid }),
        ...(args.dsnRet === undefined ? {} : { dsnRet: args.dsnRet }),
      },
      lines,
      { enabled: args.extract, recipient: rcpt },
    );
  } catch (e) {
    if (e instanceof MessageTooBig) return msg.fatal(`${who}: message file too big`, EX_TEMPFAIL);
    return msg.fatal(`${who}: queue file write error: ${strerror(e)}`, EX_TEMPFAIL);
  }
  if (!result.ok) return msg.fatal(`${who}: No recipient addresses found in message header`, EX_TEMPFAIL);
  msg.debug(`queued as ${result.id} in ${layout.directory}/maildrop`);
  // As Postfix's postdrop does, wake pickup; when the mail system is down the file simply waits.
  await sendTrigger(cfg, 'public', 'pickup', 'W');
}

// Every fatal error of Postfix's sendmail exits EX_TEMPFAIL unless it says otherwise,
// including those raised while reading main.cf.
msg.setExitOnFatal(false);
try {
  await main();
} catch (e) {
  if (!(e instanceof FatalError)) throw e;
  process.exitCode = e.exitCode === 1 ? EX_TEMPFAIL : e.exitCode;
}
