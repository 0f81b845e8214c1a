/*
 * NAME
 *	postconf - Postroom configuration utility
 * SYNOPSIS
 *	postconf [-dfhHnpvx] [-c config_dir] [-C class,...] [-o name=value] [name ...]
 *	postconf [-epv] [-c config_dir] name=value ...
 *	postconf -X|-# [-pv] [-c config_dir] name ...
 *	postconf -M|-F|-P [...]            (master.cf: see postconf_master.ts)
 *	postconf -a|-A|-l|-m [-v] [-c config_dir]
 *	postconf -T mode [-v] [-c config_dir]
 *	postconf -b|-t [-v] [-c config_dir] [template_file]
 * DESCRIPTION
 *	Shows main.cf parameters (all, named ones, defaults with -d, only
 *	explicit settings with -n, expanded with -x, folded with -f, values
 *	only with -h, names only with -H, one class with -C builtin, service,
 *	user or all), edits main.cf in place (-e name=value, or just
 *	name=value; -X name removes; -# name comments out), and lists what
 *	this build supports: table types (-m), mailbox lock types (-l), SASL
 *	plug-ins (-a server, -A client), the TLS library (-T compile-version,
 *	run-version, public-key-algorithms).
 *
 *	Output, diagnostics and exit status are Postfix 3.7's, including the
 *	usage line and the messages for conflicting options.
 * ENVIRONMENT
 *	MAIL_CONFIG: the configuration directory when -c is not given.
 * FILES
 *	$config_directory/main.cf (read; rewritten via main.cf.tmp by edits),
 *	$config_directory/master.cf (read for service names).
 * DIAGNOSTICS
 *	Problems go to stderr as "postconf: warning: ..." or "postconf: fatal:
 *	..."; exit status 1 on a fatal error or an unknown -T mode, else 0.
 * BUGS
 *	-b and -t show Postroom's own built-in bounce templates, not
 *	Postfix's wording (postconf_templates.ts). -a and -A list nothing: Postroom has no SASL yet. New
 *	names added by -e are appended in command-line order (Postfix's order
 *	is random).
 * SEE ALSO
 *	postconf(5), master(5), bounce(5)
 */
import { editMainCf, type MainCfEdit, splitNameValue } from '../global/main_cf_edit.js';
import { msg } from '../global/msg.js';
import { readMainCf, showMainParams } from './postconf_main.js';
import { type PostconfCommand, parsePostconfArgs } from './postconf_opts.js';
import { showLockTypes, showMapTypes, showSaslTypes, showTls } from './postconf_other.js';
import { showTemplates } from './postconf_templates.js';

function editMain(cmd: PostconfCommand, configDir: string): number {
  let edit: MainCfEdit;
  if (cmd.edit === 'e') {
    const settings = new Map<string, string>();
    for (const arg of cmd.operands) {
      const nv = splitNameValue(arg);
      if ('error' in nv) return msg.fatal(nv.error);
      const earlier = settings.get(nv.name);
      if (earlier !== undefined) {
        msg.warn(`ignoring earlier request: '${nv.name} = ${earlier}'`);
        settings.delete(nv.name);
      }
      settings.set(nv.name, nv.value);
    }
    edit = { kind: 'set', settings };
  } else {
    edit = { kind: cmd.edit === 'X' ? 'remove' : 'comment', names: new Set(cmd.operands) };
  }
  editMainCf(configDir, edit);
  return 0;
}

async function showMaster(cmd: PostconfCommand, mode: 'M' | 'F' | 'P'): Promise<number> {
  // Another module owns master.cf; it is loaded by name so this file builds without it.
  const mod = (await import('./postconf_master.js' as string)) as {
    postconfMaster(args: Record<string, unknown>): number | Promise<number>;
  };
  const config = readMainCf(cmd.configDir, cmd.overrides);
  return mod.postconfMaster({
    mode,
    edit: cmd.edit,
    fold: cmd.flags.has('f'),
    noNames: cmd.flags.has('h'),
    noValues: cmd.flags.has('H'),
    expand: cmd.flags.has('x'),
    showDefaults: cmd.flags.has('d'),
    nonDefault: cmd.flags.has('n'),
    operands: cmd.operands,
    config,
  });
}

async function main(argv: readonly string[]): Promise<number> {
  msg.setProgram('postconf');
  const cmd = parsePostconfArgs(argv);
  if ('kind' in cmd) {
    if (cmd.getopt) process.stderr.write(`${msg.program}: ${cmd.getopt}\n`);
    return msg.fatal(cmd.text);
  }
  msg.setVerbose(cmd.verbose);
  const configDir = cmd.configDir ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
  switch (cmd.mode) {
    case 'a':
    case 'A':
      return showSaslTypes(cmd.mode === 'A');
    case 'l':
      return showLockTypes();
    case 'T':
      return showTls(cmd.tlsMode ?? '');
    case 'm':
      readMainCf(cmd.configDir, []);
      return showMapTypes();
    case 'b':
    case 't':
      return showTemplates(cmd.mode, cmd.configDir, cmd.operands);
    case 'M':
    case 'F':
    case 'P':
      return showMaster(cmd, cmd.mode);
    case 'p':
      return cmd.edit === 'none' ? showMainParams(cmd) : editMain(cmd, configDir);
  }
}

process.exitCode = await main(process.argv.slice(2));
