/*
 * run - the sendmail command itself (see src/cli/sendmail.ts for its manual)
 *
 * Kept apart from the entry point so that the same code runs either as an
 * ES module (bin/sendmail -> dist/src/cli/sendmail.js) or from the V8
 * start-up snapshot that snapshot_build.ts makes of it: nothing here reads
 * the environment, the clock or the process at import time.
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { loadMainConfig, loadParams } from '../global/config.js';
import { FatalError, msg } from '../global/msg.js';
import { queueLayout } from '../global/queue_dirs.js';
import type { QueueRecipient } from '../global/queue_file.js';
import { strerror } from '../util/strerror.js';
import { configDirOf } from './config_dir.js';
import { gecosName } from './gecos.js';
import { parseAddressList } from './headers.js';
import { handOver, runHandOver } from './later.js';
import {
  EX_TEMPFAIL,
  EX_UNAVAILABLE,
  parseSendmailArgs,
  probeLines,
  reportNotice,
  traceFlags,
} from './options.js';
import { type FixEndings, MessageTooBig, messageLines, type SubmitResult, submitMessage } from './submit.js';

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseSendmailArgs([...argv]);
  if (parsed.kind === 'error') {
    for (const line of parsed.stderr) process.stderr.write(`${line}\n`);
    return msg.fatal(parsed.fatal, parsed.status);
  }
  const args = parsed.args;
  // One -v asks for a delivery report (traceFlags); only more turn on verbose logging, as in Postfix.
  msg.setVerbose(Math.max(0, args.verbose - 1));
  for (const w of args.warnings) msg.warn(w);
  if (args.mode === 'later') {
    const cmd = handOver(args.laterOption ?? '', argv, args.configDir);
    if (cmd === null)
      return msg.fatal(`${args.laterOption}: not available yet: this needs Postroom's smtpd`, EX_UNAVAILABLE);
    process.exitCode = runHandOver(cmd[0], cmd[1]);
    return;
  }

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
  const tflags = traceFlags(args);
  if (tflags !== 0) attributes.trace_flags = String(tflags);
  if (args.encoding !== undefined) attributes.encoding = args.encoding;
  const sender = args.sender ?? user.username;
  // -bv reads no message: it submits a probe (src/sendmail/options.ts).
  const lines = args.verify
    ? probeLines(sender, recipients)
    : messageLines(process.stdin, {
        ignoreDots: args.ignoreDots,
        fix,
        sizeLimit: Number(p.message_size_limit),
      });
  let result: SubmitResult;
  try {
    result = await submitMessage(
      layout,
      {
        sender,
        recipients: recipients.map(rcpt),
        attributes,
        ...(args.dsnEnvid === undefined ? {} : { dsnEnvid: args.dsnEnvid }),
        ...(args.dsnRet === undefined ? {} : { dsnRet: args.dsnRet }),
      },
      lines,
      { enabled: args.extract && !args.verify, recipient: rcpt },
    );
  } catch (e) {
    if (e instanceof MessageTooBig) return msg.fatal(`${who}: message file too big`, EX_TEMPFAIL);
    return msg.fatal(`${who}: queue file write error: ${strerror(e)}`, EX_TEMPFAIL);
  }
  if (!result.ok) return msg.fatal(`${who}: No recipient addresses found in message header`, EX_TEMPFAIL);
  // submitMessage has woken pickup already (src/sendmail/submit.ts).
  msg.debug(`queued as ${result.id} in ${layout.directory}/maildrop`);
  if (tflags !== 0) process.stdout.write(reportNotice(sender));
}

/**
 * Run sendmail with the arguments after the command name; sets
 * process.exitCode. Every fatal error of Postfix's sendmail exits
 * EX_TEMPFAIL unless it says otherwise, including those raised while
 * reading main.cf.
 */
export async function runSendmail(argv: readonly string[]): Promise<void> {
  msg.setProgram('sendmail');
  msg.setExitOnFatal(false);
  try {
    await main(argv);
  } catch (e) {
    if (!(e instanceof FatalError)) throw e;
    process.exitCode = e.exitCode === 1 ? EX_TEMPFAIL : e.exitCode;
  }
}
