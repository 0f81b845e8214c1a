/*
 * postconf_main - show main.cf parameters: postconf [-dfhHnx] [-C class] [name...]
 *
 * Which names exist: the built-in ones (the registry), the service-defined
 * ones (a master.cf service name plus a per-transport suffix; such a name
 * counts as service-defined even when it also has a built-in default, like
 * local_destination_concurrency_limit) and the user-defined ones (set in
 * main.cf and named as $name in a value, or in smtpd_restriction_classes).
 * What each mode shows:
 *   (default) every name, sorted, with its main.cf value or default;
 *   -d        defaults only; main.cf is not read;
 *   -n        only names set in main.cf or with -o (and config_directory
 *             when -c or MAIL_CONFIG chose the directory);
 *   name...   those names in command-line order, warning about unknown ones
 *             (-n: set ones only);
 *   -x        values expanded ($name, ${name?text}, ...).
 * Warnings come in Postfix's phases: undefined $names referenced from
 * main.cf, then unknown names while printing, then main.cf names that
 * nothing uses. Postfix prints a phase's warnings in hash-table order
 * (random); ours come in main.cf order.
 */
import { loadMainConfig, MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import {
  DELIVERY_AGENTS,
  defaultText,
  PARAMS,
  type ServiceRef,
  TIME_LIMIT_AGENTS,
  TRANSPORT_SUFFIXES,
} from '../global/params.js';
import { macroNames } from '../global/params_expand.js';
import { MasterCfError, readMasterCf } from '../master/master_cf.js';
import type { PostconfCommand } from './postconf_opts.js';
import { formatParam } from './postconf_print.js';

type Service = ServiceRef & { readonly params: ReadonlyArray<{ name: string; value: string }> };

/** master.cf services; a missing master.cf is only a warning here. */
export function readServices(configDir: string): Service[] {
  try {
    return readMasterCf(configDir, (text) => msg.warn(text)).entries.map((e) => ({
      name: e.name,
      command: e.command,
      params: e.params,
    }));
  } catch (e) {
    if (!(e instanceof MasterCfError)) throw e;
    msg.warn(e.message);
    return [];
  }
}

/** main.cf with -o overrides; an unreadable main.cf is fatal (config.ts words it). */
export function readMainCf(configDir: string | undefined, overrides: readonly string[]): MainConfig {
  return loadMainConfig({ configDir, overrides });
}

/** name -> default text of every name the master.cf services define. */
export function serviceDefaults(services: readonly ServiceRef[]): Map<string, string> {
  const out = new Map<string, string>();
  const add = (name: string, ref: string) => out.set(name, defaultText(name) ?? `$${ref}`);
  for (const s of services) {
    if (DELIVERY_AGENTS.has(s.command)) {
      for (const [suffix, ref] of Object.entries(TRANSPORT_SUFFIXES)) add(s.name + suffix, ref);
    }
    if (TIME_LIMIT_AGENTS.has(s.command)) add(`${s.name}_time_limit`, 'command_time_limit');
  }
  return out;
}

export function showMainParams(cmd: PostconfCommand): number {
  const flags = cmd.flags;
  const printFlags = { noNames: flags.has('h'), noValues: flags.has('H'), fold: flags.has('f') };
  const defaultsOnly = flags.has('d');
  const cfg = defaultsOnly ? undefined : readMainCf(cmd.configDir, cmd.overrides);
  const configDir = cfg?.configDirectory ?? cmd.configDir ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
  const services = readServices(configDir);
  const byService = serviceDefaults(services);
  const isBuiltin = (n: string) => Object.hasOwn(PARAMS, n);
  const isDefined = (n: string) => isBuiltin(n) || byService.has(n);

  // User-defined: set here, not built in or service-defined, and used.
  const setNames = cfg?.names() ?? [];
  const user = new Set<string>();
  if (cfg) {
    const masterValues = services.flatMap((s) => s.params.map((p) => p.value));
    const unused = new Set(cfg.unused(services, masterValues).map((u) => u.name));
    for (const n of setNames) if (!isDefined(n) && !unused.has(n)) user.add(n);
    const undefinedRefs = new Set<string>();
    for (const n of setNames) {
      for (const ref of macroNames(cfg.raw(n) ?? ''))
        if (!isDefined(ref) && !cfg.isSet(ref)) undefinedRefs.add(ref);
    }
    for (const ref of undefinedRefs) msg.warn(`${cfg.file}: undefined parameter: ${ref}`);
  }

  const inClass = (n: string): boolean =>
    (byService.has(n) && cmd.classes.has('service')) ||
    (!byService.has(n) && isBuiltin(n) && cmd.classes.has('builtin')) ||
    (user.has(n) && cmd.classes.has('user'));
  const text = (n: string): string => {
    const raw = cfg?.raw(n) ?? defaultText(n) ?? byService.get(n) ?? '';
    if (!flags.has('x')) return raw;
    return (cfg ?? new MainConfig(configDir, '')).expand(raw);
  };

  let out = '';
  const print = (n: string) => {
    out += `${formatParam(n, text(n), printFlags)}\n`;
  };
  if (cmd.operands.length > 0) {
    for (const n of cmd.operands) {
      if (!inClass(n)) {
        // Keep stdout and stderr in step, as Postfix's unbuffered warnings are.
        process.stdout.write(out);
        out = '';
        msg.warn(`${n}: unknown parameter`);
      } else if (!flags.has('n') || cfg?.isSet(n)) {
        print(n);
      }
    }
  } else {
    const names = flags.has('n') ? setNames : [...Object.keys(PARAMS), ...byService.keys(), ...user];
    for (const n of [...new Set(names.filter(inClass))].sort()) print(n);
  }
  process.stdout.write(out);

  if (cfg) {
    const masterValues = services.flatMap((s) => s.params.map((p) => p.value));
    for (const u of cfg.unused(services, masterValues))
      msg.warn(`${cfg.file}: unused parameter: ${u.name}=${u.value}`);
  }
  return 0;
}
