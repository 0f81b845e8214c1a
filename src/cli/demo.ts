/*
 * NAME
 *	demo - set up and show the embedded demo configuration
 * SYNOPSIS
 *	npm run demo [-- directory]
 * DESCRIPTION
 *	Writes the demo configuration under one directory (default
 *	./demo-instance), builds its alias table with postalias, and shows it
 *	with postconf -n and postconf -M. The mail daemons (master, smtpd,
 *	qmgr, ...) do not exist yet, so this demo stops there and says so;
 *	when they land it will start the instance on 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_ALIASES, DEMO_SMTP_PORT, demoMainCf, demoMasterCf } from '../demo/config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const base = resolve(process.argv[2] ?? 'demo-instance');
const etc = join(base, 'etc');
mkdirSync(etc, { recursive: true });
writeFileSync(join(etc, 'main.cf'), demoMainCf(base, userInfo().username));
writeFileSync(join(etc, 'master.cf'), demoMasterCf());
writeFileSync(join(etc, 'aliases'), DEMO_ALIASES);

function step(title: string, cmd: string, args: string[]): void {
  process.stdout.write(`\n$ ${cmd} ${args.join(' ')}   # ${title}\n`);
  const r = spawnSync(join(root, 'bin', cmd), args, { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}

process.stdout.write(`Postroom demo configuration written to ${etc}\n`);
step('the settings that differ from the defaults', 'postconf', ['-c', etc, '-n']);
step('the services', 'postconf', ['-c', etc, '-M']);
step('build the alias table', 'postalias', ['-c', etc, join(etc, 'aliases')]);
step('look up an alias', 'postalias', ['-c', etc, '-q', 'abuse', `hash:${join(etc, 'aliases')}`]);
process.stdout.write(
  `\nThe mail daemons are not written yet: nothing listens on 127.0.0.1:${DEMO_SMTP_PORT} today.\n` +
    'Configuration, postconf, postmap, postalias and the lookup tables work (see README.md).\n',
);
