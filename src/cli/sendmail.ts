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
 *   3.7's sendmail: a fatal error exits 75 (EX_TEMPFAIL). -bp runs
 *   postqueue -p (mailq), -q postqueue -f, -qRsite postqueue -s site,
 *   -bi and -I newaliases (src/sendmail/later.ts); -bs (SMTP on standard
 *   input) needs smtpd and exits 69 (EX_UNAVAILABLE) for now.
 *
 *   -bv submits a probe instead of reading a message: the delivery agents
 *   only say what they would do with each recipient, and the sender gets
 *   a "Mail Delivery Status Report". -v delivers as usual and also asks
 *   for that report (-v -v adds verbose logging). Both print "Mail
 *   Delivery Status Report will be mailed to <sender>." (docs/verify.md).
 *
 *   Postfix's sendmail hands the message to the setgid postdrop command.
 *   Postroom is not installed setgid, so sendmail writes maildrop/ itself
 *   with the durable queue file writer (the file is complete or absent);
 *   the permission check is the directory's own (mode 0730, group
 *   postdrop). See src/cli/postdrop.ts for the stream form.
 */

import { runSendmail } from '../sendmail/run.js';

await runSendmail(process.argv.slice(2));
