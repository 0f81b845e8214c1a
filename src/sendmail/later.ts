/*
 * later - the sendmail modes that hand over to another command, as
 * Postfix's sendmail does: -bp runs postqueue -p (mailq), -q runs
 * postqueue -f, -qRsite runs postqueue -s site, -bi and -I run newaliases.
 * The other command's output and exit status become sendmail's. -bs (SMTP
 * on standard input) needs smtpd, which is not written yet: it still exits
 * 69 (EX_UNAVAILABLE) with a clear message, as do the daemon modes.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { command_directory } from '../global/host_defaults.js';
import { configDirOf } from './config_dir.js';

/** The command and arguments for a hand-over mode, or null when there is none. */
export function handOver(
  option: string,
  argv: readonly string[],
  configDir?: string,
): [string, string[]] | null {
  // -q is recognised before the other options are parsed: find -C by hand then.
  const dir = configDirOf(configDir ?? configOption(argv));
  const config = dir === undefined ? [] : ['-c', dir];
  if (option === '-bp') return ['postqueue', [...config, '-p']];
  if (option === '-bi' || option === '-I') return ['newaliases', config];
  if (option === '-q') {
    const site = argv.find((w) => w.startsWith('-qR'));
    if (site !== undefined) return ['postqueue', [...config, '-s', site.slice(3)]];
    // "-q<interval>" asks for a periodic queue run: master's wakeups do that; like Postfix, a flush.
    return ['postqueue', [...config, '-f']];
  }
  return null;
}

/** The -C argument (configuration file or directory) in argv, if any. */
function configOption(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i] as string;
    if (w === '--') break;
    if (w === '-C') return argv[i + 1];
    if (w.startsWith('-C')) return w.slice(2);
  }
  return undefined;
}

/** Run the command with sendmail's stdio; its exit status (or 75 when it cannot run). */
export function runHandOver(command: string, args: readonly string[]): number {
  const r = spawnSync(join(command_directory(), command), args, { stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`sendmail: fatal: execvp ${command}: ${r.error.message}\n`);
    return 75;
  }
  return r.status ?? 75;
}
