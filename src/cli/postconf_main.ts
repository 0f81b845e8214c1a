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
 * Warnings come in Postfix's phases (checkParameters below): undefined
 * $names referenced from master.cf "-o" values, then from main.cf; unknown
 * names while printing; then main.cf names that nothing uses, then
 * master.cf "-o" names that nothing uses. Postfix prints part of each phase
 * in hash-table order (random); ours come in file order.
 * BUGS
 *	Postfix expands the values a $name reaches while it checks them, so an
 *	expansion loop or a bad macro ("${x") there ends it with "fatal: macro
 *	processing error"; ours only reports the names. "$$" is taken as a
 *	reference (macroNames in params_expand.ts), where Postfix reads a "$".
 */
import { loadMainConfig, MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import {
  DELIVERY_AGENTS,
  defaultText,
  dynamicSpec,
  PARAMS,
  type ServiceRef,
  TIME_LIMIT_AGENTS,
  TRANSPORT_SUFFIXES,
} from '../global/params.js';
import { expandText, macroNames } from '../global/params_expand.js';
import { MasterCfError, masterCfPath, readMasterCf } from '../master/master_cf.js';
import { printable } from '../master/master_cf_tokens.js';
import type { PostconfCommand } from './postconf_opts.js';
import { formatParam } from './postconf_print.js';

export type Service = ServiceRef & {
  readonly type: string;
  readonly params: ReadonlyArray<{ name: string; value: string }>;
};

/** master.cf services; a missing master.cf is only a warning here. */
export function readServices(configDir: string): Service[] {
  try {
    return readMasterCf(configDir, (text) => msg.warn(text)).entries.map((e) => ({
      name: e.name,
      type: e.type,
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

/** What postconf says about parameter settings besides showing them. */
export interface ParameterCheck {
  /** "undefined parameter" texts, master.cf's then main.cf's: printed before any output. */
  readonly undefinedRefs: readonly string[];
  /** main.cf (and -o) settings that nothing uses. */
  readonly mainUnused: ReadonlyArray<{ name: string; value: string }>;
  /** "unused parameter" texts for master.cf "-o" settings: printed after the output. */
  readonly masterUnused: readonly string[];
}

/**
 * Names a setting refers to: its $names and, for smtpd_restriction_classes,
 * the class names its expanded value lists.
 */
function references(name: string, value: string, expand: (text: string) => string): string[] {
  const refs = macroNames(value);
  if (name === 'smtpd_restriction_classes')
    refs.push(
      ...expand(value)
        .split(/[ \t\r\n,]+/)
        .filter((w) => w !== ''),
    );
  return refs;
}

/**
 * Postfix's view of user-defined names. A "-o" setting is local to its
 * service: a $name in a "-o" value resolves to that service's own "-o"
 * setting first, else to main.cf; a $name in main.cf resolves to main.cf,
 * else to every service that sets it with "-o". A name nobody resolves to
 * is unused; a $name that resolves nowhere (and is not built in or
 * service-defined) is undefined, once per occurrence. Rows with the same
 * service name and type share one set of "-o" settings (the later value
 * wins) and each such row reports all of it, as Postfix does; a row
 * without "-o" shares only with rows above it.
 */
export function checkParameters(
  cfg: MainConfig,
  services: readonly Service[],
  masterFile: string,
): ParameterCheck {
  const known = (n: string) => dynamicSpec(n, services) !== undefined;
  const shared = new Map<string, Map<string, string>>();
  const scopes = services.map((s) => {
    const key = `${s.name}/${s.type}`;
    let scope = shared.get(key);
    if (scope === undefined) {
      // A row without "-o" joins the settings of an earlier row only.
      if (s.params.length === 0) return undefined;
      scope = new Map<string, string>();
      shared.set(key, scope);
    }
    for (const p of s.params) scope.set(p.name, p.value);
    return scope;
  });
  const usedLocally = new Map([...shared.values()].map((scope) => [scope, new Set<string>()] as const));
  const undefinedRefs: string[] = [];
  const viaMaster: string[] = [];
  scopes.forEach((scope, i) => {
    if (scope === undefined) return;
    const local = new Map([['service_name', services[i]!.name], ...scope]);
    const expand = (text: string) => expandText(text, (n) => local.get(n) ?? cfg.rawOrDefault(n)).value;
    for (const [name, value] of scope)
      for (const ref of references(name, value, expand)) {
        if (scope.has(ref)) usedLocally.get(scope)!.add(ref);
        else if (cfg.isSet(ref)) viaMaster.push(`$${ref}`);
        else if (!known(ref)) undefinedRefs.push(printable(`${masterFile}: undefined parameter: ${ref}`));
      }
  });
  for (const n of cfg.names())
    for (const ref of references(n, cfg.raw(n) ?? '', (text) => cfg.expandValue(text).value)) {
      if (cfg.isSet(ref) || known(ref)) continue;
      const setters = [...shared.values()].filter((scope) => scope.has(ref));
      if (setters.length === 0) undefinedRefs.push(`${cfg.file}: undefined parameter: ${ref}`);
      for (const scope of setters) usedLocally.get(scope)!.add(ref);
    }
  const mainUnused = cfg.unused(services, viaMaster);
  const unusedInMain = new Set(mainUnused.map((u) => u.name));
  const masterUnused: string[] = [];
  for (const scope of scopes) {
    if (scope === undefined) continue;
    const used = usedLocally.get(scope)!;
    for (const [name, value] of scope) {
      if (known(name) || used.has(name) || (cfg.isSet(name) && !unusedInMain.has(name))) continue;
      masterUnused.push(printable(`${masterFile}: unused parameter: ${name}=${value}`));
    }
  }
  return { undefinedRefs, mainUnused, masterUnused };
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
  const check = cfg ? checkParameters(cfg, services, masterCfPath(configDir)) : undefined;
  if (check) {
    const unused = new Set(check.mainUnused.map((u) => u.name));
    for (const n of setNames) if (!isDefined(n) && !unused.has(n)) user.add(n);
    for (const w of check.undefinedRefs) msg.warn(w);
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

  if (cfg && check) {
    for (const u of check.mainUnused) msg.warn(`${cfg.file}: unused parameter: ${u.name}=${u.value}`);
    for (const w of check.masterUnused) msg.warn(w);
  }
  return 0;
}
