/*
 * postconf_main - show main.cf parameters: postconf [-dhHnx] [-C class] [name...]
 *
 * Which names exist: the built-in ones (the registry), the service-defined
 * ones (a master.cf service name plus a per-transport suffix) and the
 * user-defined ones (set in main.cf and either referenced as $name in a
 * value or listed in smtpd_restriction_classes). What each mode shows:
 *   (default) every name, sorted, with its main.cf value or default;
 *   -d        defaults only, main.cf is not read;
 *   -n        only names set in main.cf or with -o (config_directory is
 *             always set: Postfix puts it into the dictionary it reads);
 *   name...   those names in command-line order, warning about unknown ones;
 *   -x        values expanded ($name, ${name?text}, ...).
 * Warnings, as Postfix words them and in the same phases: undefined $names
 * referenced from main.cf first, then unknown names while printing, then
 * main.cf names that nothing uses. Postfix prints each phase's warnings in
 * hash-table order (random); ours come in main.cf order.
 */
import { loadMainConfig, MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { MasterCfError, readMasterCf } from '../master/master_cf.js';
import type { PostconfCommand } from './postconf_opts.js';
import { formatParam } from './postconf_print.js';
import { loadRegistry, mainCfNames, type Registry } from './postconf_registry.js';

type Service = { name: string; command: string; params: ReadonlyArray<{ name: string; value: string }> };

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EISDIR') return 'Is a directory';
  if (code === 'ENOTDIR') return 'Not a directory';
  return (e as Error).message;
}

/** master.cf services; a missing master.cf is only a warning here. */
export function readServices(configDir: string): Service[] {
  try {
    return readMasterCf(configDir, (text) => msg.warn(text)).entries.map((e) => ({
      name: e.name,
      command: e.command,
      params: e.params,
    }));
  } catch (e) {
    if (e instanceof MasterCfError) msg.warn(e.message);
    else msg.warn(`open ${configDir}/master.cf: ${ioReason(e)}`);
    return [];
  }
}

/** main.cf with -o overrides; an unreadable main.cf is fatal, in Postfix's words. */
export function readMainCf(configDir: string | undefined, overrides: readonly string[]): MainConfig {
  try {
    return loadMainConfig({ configDir, overrides });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) {
      const dir = configDir ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
      return msg.fatal(`open ${dir}/main.cf: ${ioReason(e)}`);
    }
    return msg.fatal((e as Error).message);
  }
}

/** $name, ${name}, $(name), ${name?...}, ${name:...}: the names a value refers to. */
export function references(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/\$(?:\{(\w+)|\((\w+)|(\w+))/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

function overrideName(o: string): string {
  const eq = o.indexOf('=');
  return (eq < 0 ? o : o.slice(0, eq)).trim();
}

/** A config with nothing set, for -dx: defaults expanded against defaults. */
function emptyConfig(configDir: string): MainConfig {
  const api = MainConfig as unknown as { empty?: (dir: string) => MainConfig };
  if (typeof api.empty === 'function') return api.empty(configDir);
  const Ctor = MainConfig as unknown as new (dir: string, text: string) => MainConfig;
  return new Ctor(configDir, '');
}

export async function showMainParams(cmd: PostconfCommand): Promise<number> {
  const flags = cmd.flags;
  const printFlags = { noNames: flags.has('h'), noValues: flags.has('H'), fold: flags.has('f') };
  const configDir = cmd.configDir ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
  const registry: Registry = await loadRegistry();
  const defaultsOnly = flags.has('d');
  const cfg = defaultsOnly ? undefined : readMainCf(cmd.configDir, cmd.overrides);
  const services = readServices(configDir);
  const serviceDefaults = registry.serviceParams(services);
  const builtin = new Set(registry.builtin);

  // What main.cf (and -o) set, last one winning, in file order.
  const setNames: string[] = [];
  const value = new Map<string, string>();
  if (cfg) {
    for (const name of [...mainCfNames(cfg), 'config_directory', ...cmd.overrides.map(overrideName)]) {
      if (!value.has(name)) setNames.push(name);
      value.set(name, name === 'config_directory' ? (cfg.raw(name) ?? configDir) : (cfg.raw(name) ?? ''));
    }
  }
  const isBuiltinOrService = (n: string) => builtin.has(n) || serviceDefaults.has(n);

  // User-defined names: set, and referenced or named as a restriction class.
  const referenced = new Set<string>();
  const undefinedRefs: string[] = [];
  if (cfg) {
    const texts = [...value.values(), ...services.flatMap((s) => s.params.map((p) => p.value))];
    for (const text of texts) {
      for (const ref of references(text)) {
        referenced.add(ref);
        if (!isBuiltinOrService(ref) && !value.has(ref) && !undefinedRefs.includes(ref))
          undefinedRefs.push(ref);
      }
    }
    for (const cls of (value.get('smtpd_restriction_classes') ?? '').split(/[\s,]+/))
      if (cls) referenced.add(cls);
  }
  const user = new Set(setNames.filter((n) => !isBuiltinOrService(n) && referenced.has(n)));
  for (const ref of undefinedRefs) msg.warn(`${configDir}/main.cf: undefined parameter: ${ref}`);

  // A name that a master.cf service defines is a service parameter even when
  // it also has a built-in default (local_destination_concurrency_limit).
  const inClass = (n: string): boolean =>
    (serviceDefaults.has(n) && cmd.classes.has('service')) ||
    (!serviceDefaults.has(n) && builtin.has(n) && cmd.classes.has('builtin')) ||
    (user.has(n) && cmd.classes.has('user'));
  const known = (n: string): boolean => inClass(n) && !(defaultsOnly && user.has(n));
  const defaultOf = (n: string): string => registry.defaultText(n) ?? serviceDefaults.get(n) ?? '';
  const shown = (n: string): string => {
    if (defaultsOnly) return defaultOf(n);
    return value.get(n) ?? defaultOf(n);
  };
  let defaults: MainConfig | undefined;
  const expand = (text: string): string => {
    if (!flags.has('x')) return text;
    if (cfg) return cfg.expand(text);
    defaults ??= emptyConfig(configDir);
    return defaults.expand(text);
  };

  let out = '';
  const print = (n: string) => {
    out += `${formatParam(n, expand(shown(n)), printFlags)}\n`;
  };
  if (cmd.operands.length > 0) {
    for (const n of cmd.operands) {
      if (!known(n)) {
        process.stdout.write(out);
        out = '';
        msg.warn(`${n}: unknown parameter`);
      } else if (!flags.has('n') || value.has(n)) {
        print(n);
      }
    }
  } else {
    const names = flags.has('n')
      ? setNames.filter(known)
      : [...new Set([...registry.builtin, ...serviceDefaults.keys(), ...user])].filter(known);
    for (const n of names.sort()) print(n);
  }
  process.stdout.write(out);

  if (cfg) {
    for (const n of setNames) {
      if (!isBuiltinOrService(n) && !user.has(n)) {
        msg.warn(`${configDir}/main.cf: unused parameter: ${n}=${value.get(n)}`);
      }
    }
  }
  return 0;
}
