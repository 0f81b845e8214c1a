/*
 * NAME
 *	demo - run a complete Postroom instance in one directory
 * SYNOPSIS
 *	npm run demo [-- directory]
 * DESCRIPTION
 *	Writes the demo configuration under one directory (default
 *	./demo-instance: configuration in etc/, queue, log, mailboxes), builds
 *	its alias table, starts the instance with "postfix -c <dir>/etc start"
 *	and says how to send a message, where it lands and how to stop the
 *	instance. Works as an ordinary user (everything runs as that user)
 *	and as root (services run as the postfix account). Run again, it
 *	rewrites the configuration and reloads a running instance instead.
 * EXIT STATUS
 *	0 when the instance runs, 1 when a step failed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEMO_ALIASES,
  DEMO_DOMAIN,
  DEMO_SMTP_PORT,
  type DemoOwner,
  demoMainCf,
  demoMasterCf,
} from '../demo/config.js';
import { findProgram } from '../master/master_services.js';
import { getpwnam, isRoot } from '../master/master_user.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const base = resolve(process.argv[2] ?? 'demo-instance');
const etc = join(base, 'etc');
const bin = (cmd: string) => join(root, 'bin', cmd);

function owner(): DemoOwner {
  if (!isRoot()) {
    const me = userInfo();
    return { mailOwner: me.username, uid: me.uid, gid: me.gid };
  }
  const pf = getpwnam('postfix');
  if (!pf) {
    process.stderr.write('demo: as root the demo needs the "postfix" account (mail_owner)\n');
    process.exit(1);
  }
  return { mailOwner: 'postfix', uid: pf.uid, gid: pf.gid };
}

function step(title: string, cmd: string, args: string[]): boolean {
  process.stdout.write(`\n$ ${cmd} ${args.join(' ')}   # ${title}\n`);
  const r = spawnSync(bin(cmd), args, { stdio: 'inherit' });
  return r.status === 0;
}

const o = owner();
mkdirSync(etc, { recursive: true });
// Services running as mail_owner must reach the configuration.
chmodSync(base, 0o755);
writeFileSync(join(etc, 'main.cf'), demoMainCf(base, o));
writeFileSync(join(etc, 'master.cf'), demoMasterCf());
writeFileSync(join(etc, 'aliases'), DEMO_ALIASES);
const spool = join(base, 'mail');
mkdirSync(spool, { recursive: true });
chmodSync(spool, 0o1777);
const mailboxes = join(base, 'mailboxes');
mkdirSync(mailboxes, { recursive: true });
if (isRoot()) chownSync(mailboxes, o.uid, o.gid);

process.stdout.write(`Postroom demo instance in ${base}\n`);
let ok = step('build the alias table', 'postalias', ['-c', etc, join(etc, 'aliases')]);
const running = spawnSync(bin('postfix'), ['-c', etc, 'status'], { stdio: 'ignore' }).status === 0;
ok &&= running
  ? step('pick up the new configuration', 'postfix', ['-c', etc, 'reload'])
  : step('start the mail system', 'postfix', ['-c', etc, 'start']);
if (!ok) {
  process.stdout.write(`\nSomething failed: see the messages above and ${base}/maillog.\n`);
  process.exit(1);
}
const smtpd = findProgram(join(root, 'dist/src'), 'smtpd').kind !== 'missing';
process.stdout.write(`
The instance is running (log: ${base}/maillog).

Send a message:
  printf 'Subject: hello\\n\\nIt works.\\n' | MAIL_CONFIG=${etc} ${bin('sendmail')} you@${DEMO_DOMAIN}
It lands in ${mailboxes}/you/Maildir/new/
(mail for a local user, e.g. ${userInfo().username}@localhost, lands in ${spool}/).
${
  smtpd
    ? `Or over SMTP: 127.0.0.1:${DEMO_SMTP_PORT} (e.g. swaks --server 127.0.0.1:${DEMO_SMTP_PORT} --to you@${DEMO_DOMAIN}).`
    : `SMTP on 127.0.0.1:${DEMO_SMTP_PORT} starts working once Postroom has smtpd (master reports it as not implemented until then).`
}
Queue:  MAIL_CONFIG=${etc} ${bin('mailq')}
Stop:   ${bin('postfix')} -c ${etc} stop
`);
