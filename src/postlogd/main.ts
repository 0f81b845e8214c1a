/*
 * postlogd - Postfix-compatible logging daemon (process entry point)
 *
 * SYNOPSIS
 *   postlogd [-c config_dir] [-o name=value] [-v]
 *
 * Appends the lines that programs write to $queue_directory/public/postlog
 * (see postlogd.ts) to $maillog_file, and logs its own start-up problems
 * there as postfix/postlogd. Without maillog_file there is nothing to do:
 * it says so and exits 0, as Postfix's postlogd is not needed with syslog.
 * SIGTERM or SIGINT stop it (exit 0); a bad maillog_file or an unusable
 * FIFO is fatal (exit 1).
 */
import { loadMainConfig } from '../global/config.js';
import { mailTask, openMaillog } from '../global/maillog.js';
import { msg } from '../global/msg.js';
import { getopt } from '../util/getopt.js';
import { postlogPath, startPostlogd } from './postlogd.js';

msg.setProgram('postlogd');
const parsed = getopt(process.argv.slice(2), 'c:o:v');
if (parsed.kind === 'error') {
  process.stderr.write(`postlogd: ${parsed.message}\n`);
  msg.fatal('usage: postlogd [-c config_dir] [-o name=value] [-v]');
}
let configDir: string | undefined;
const overrides: string[] = [];
for (const o of parsed.opts) {
  if (o.opt === 'c') configDir = o.arg;
  else if (o.opt === 'o') overrides.push(o.arg!);
  else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
}
const cfg = loadMainConfig({ configDir, overrides });
msg.setProgram(mailTask(cfg.get('syslog_name'), 'postlogd'));
const writer = openMaillog(cfg);
if (writer === null) {
  msg.info('maillog_file is empty: nothing to do');
  process.exit(0);
}
let daemon: ReturnType<typeof startPostlogd>;
try {
  daemon = startPostlogd({ fifoPath: postlogPath(cfg), writer });
} catch (e) {
  msg.fatal(`open ${postlogPath(cfg)}: ${(e as Error).message}`);
}
msg.debug(`reading ${postlogPath(cfg)}`);
const stop = () => {
  daemon.close();
  writer.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Started by master: its death closes the channel, and a new master starts its own postlogd.
if (typeof process.send === 'function') {
  if (!process.connected) stop();
  process.on('disconnect', stop);
}
