/*
 * config - main.cf as every Postroom program sees it
 *
 * Reads $config_directory/main.cf the way Postfix 3.7 does: "name = value"
 * logical lines; a line that starts with whitespace continues the previous
 * one (its whitespace kept); blank lines and lines whose first non-blank
 * character is "#" are skipped, even inside a continued line; a later
 * assignment overrides an earlier one with a warning; -o name=value
 * overrides apply after the file, silently. The directory is -c, else
 * $MAIL_CONFIG, else /etc/postfix; either of the first two also sets
 * config_directory, as in Postfix.
 *
 * Values are expanded on demand by params_expand.ts. Typed getters check
 * values and stop the program in Postfix's words ("bad numerical
 * configuration: smtpd_recipient_limit = ten"). Diagnostics go through msg:
 * warnings as msg.warn, fatal errors as msg.fatal (which throws FatalError
 * when msg.setExitOnFatal(false), e.g. in tests). parseMainCf() is the pure
 * parser: it throws only ConfigError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listItems } from '../maps/braces.js';
import { strerror } from '../util/strerror.js';
import { msg } from './msg.js';
import {
  ConfigError,
  defaultText,
  dynamicSpec,
  type ParamLookup,
  type ParamSpec,
  paramSpec,
  type ServiceRef,
  type TimeUnit,
} from './params.js';
import { expandText, macroNames } from './params_expand.js';

export interface ConfigOptions {
  /** -c dir; else $MAIL_CONFIG; else /etc/postfix. */
  readonly configDir?: string | undefined;
  /** -o name=value overrides, in command-line order. */
  readonly overrides?: readonly string[];
  /** A missing main.cf reads as empty (postconf -d) instead of "fatal: open ...". */
  readonly missingOk?: boolean;
  /**
   * The fatal text after a failed $name expansion: daemons and most commands
   * say "dictionary mail_dict: macro processing error" (the default); postconf
   * says "macro processing error".
   */
  readonly macroErrorText?: string;
}

export function configDirectory(opt?: string): string {
  return opt ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
}

/** One assignment: its unexpanded value and where it came from (line 0: -c, -o). */
export interface Entry {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

export interface ParsedMainCf {
  /** Final assignments, in the order their names first appeared. */
  readonly entries: Map<string, Entry>;
  /** Warning texts, in Postfix's words, without the program prefix. */
  readonly warnings: string[];
}

/**
 * Split "name = value" the way Postfix does; returns the error text
 * ("missing attribute name", "missing '=' after attribute name") on failure.
 */
export function splitNameValue(text: string): { name: string; value: string } | string {
  const m = /^[ \t\n\r\f\v]*([^ \t\n\r\f\v=]*)[ \t\n\r\f\v]*(=?)[ \t\n\r\f\v]*([\s\S]*?)[ \t\n\r\f\v]*$/.exec(
    text,
  );
  const name = m?.[1] ?? '';
  if (name === '') return 'missing attribute name';
  if (m?.[2] !== '=') return "missing '=' after attribute name";
  return { name, value: m[3] ?? '' };
}

/** Parse main.cf text; `file` is the path used in messages. Throws ConfigError. */
export function parseMainCf(text: string, file: string, initial: readonly Entry[] = []): ParsedMainCf {
  const entries = new Map<string, Entry>();
  for (const e of initial) entries.set(e.name, e);
  const warnings: string[] = [];
  const logical: Array<{ text: string; line: number }> = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    if (/^[ \t\n\r\f\v]*(#|$)/.test(line)) return;
    const last = logical.at(-1);
    if (/^[ \t\n\r\f\v]/.test(line) && last) last.text += line;
    else logical.push({ text: line, line: i + 1 });
  });
  for (const { text: l, line } of logical) {
    if (/^[ \t\n\r\f\v]/.test(l)) {
      warnings.push(`${file}: logical line must not start with whitespace: "${l}"`);
      continue;
    }
    const nv = splitNameValue(l);
    if (typeof nv === 'string') throw new ConfigError(`${file}, line ${line}: ${nv}: "${l}"`);
    const old = entries.get(nv.name);
    // Postfix says nothing when the same value is set again.
    if (old && old.value !== nv.value) {
      warnings.push(`${file}, line ${line}: overriding earlier entry: ${old.name}=${old.value}`);
    }
    entries.set(nv.name, { name: nv.name, value: nv.value, line });
  }
  return { entries, warnings };
}

/** A typed view of some parameters: what loadParams returns. */
export type ParamValue = string | number | boolean;

export class MainConfig implements ParamLookup {
  readonly #entries: Map<string, Entry>;
  readonly #macroError: string;
  readonly #cache = new Map<string, string>();

  constructor(
    readonly configDirectory: string,
    text: string,
    opts: { file?: string; macroErrorText?: string; initial?: readonly Entry[] } = {},
  ) {
    this.file = opts.file ?? join(configDirectory, 'main.cf');
    this.#macroError = opts.macroErrorText ?? 'dictionary mail_dict: macro processing error';
    let parsed: ParsedMainCf;
    try {
      parsed = parseMainCf(text, this.file, opts.initial);
    } catch (e) {
      if (e instanceof ConfigError) msg.fatal(e.message);
      throw e;
    }
    for (const w of parsed.warnings) msg.warn(w);
    this.#entries = parsed.entries;
  }

  /** The path of main.cf, as used in messages. */
  readonly file: string;

  /** The unexpanded value set in main.cf or by -o; undefined when unset. */
  raw(name: string): string | undefined {
    return this.#entries.get(name)?.value;
  }

  /** Where name was set: line in main.cf, 0 for -c/-o; undefined when unset. */
  entry(name: string): Entry | undefined {
    return this.#entries.get(name);
  }

  isSet(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Names set in main.cf (and by -c/-o), in the order they first appeared. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Assign as -o does: silently, after the file. */
  set(name: string, value: string): void {
    const old = this.#entries.get(name);
    this.#entries.set(name, { name, value, line: old?.line ?? 0 });
    this.#cache.clear();
  }

  /** The unexpanded text name has here: main.cf's, else its default (computed with this config). */
  rawOrDefault(name: string): string | undefined {
    return this.raw(name) ?? this.defaultOf(name);
  }

  /** The default text of name in this configuration (myhostname appends a set mydomain, ...). */
  defaultOf(name: string, services: readonly ServiceRef[] = []): string | undefined {
    const spec = paramSpec(name) ?? dynamicSpec(name, services);
    if (spec === undefined) return undefined;
    if (typeof spec.default === 'string') return spec.default;
    try {
      return defaultText(name, this);
    } catch (e) {
      if (e instanceof ConfigError) msg.fatal(e.message);
      throw e;
    }
  }

  /** Expand text against this configuration, reporting nothing: for postconf's own diagnostics. */
  expandValue(text: string): { value: string; errors: readonly string[] } {
    return expandText(text, (n) => this.rawOrDefault(n));
  }

  /** Expand text; a syntax error or a loop is a warning and then a fatal error, as in Postfix. */
  expand(text: string): string {
    const r = this.expandValue(text);
    if (r.errors.length > 0) {
      for (const e of r.errors) msg.warn(e);
      msg.fatal(this.#macroError);
    }
    return r.value;
  }

  /** The expanded value (main.cf's, else the default); '' for unknown unset names. Raw parameters stay unexpanded. */
  get(name: string): string {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const text = this.rawOrDefault(name) ?? '';
    const value = paramSpec(name)?.type === 'raw' ? text : this.expand(text);
    this.#cache.set(name, value);
    return value;
  }

  /** The expanded value only when main.cf or -o sets it. */
  explicit(name: string): string | undefined {
    return this.isSet(name) ? this.get(name) : undefined;
  }

  /** A string parameter, with Postfix's length check. */
  str(name: string, min = 0, max = 0): string {
    const v = this.get(name);
    if (v.length < min) msg.fatal(`bad string length ${v.length} < ${min}: ${name} = ${v}`);
    if (max > 0 && v.length > max) msg.fatal(`bad string length ${v.length} > ${max}: ${name} = ${v}`);
    return v;
  }

  bool(name: string): boolean {
    const v = this.get(name);
    if (/^yes$/i.test(v)) return true;
    if (/^no$/i.test(v)) return false;
    return msg.fatal(`bad boolean configuration: ${name} = ${v}`);
  }

  int(name: string, min?: number, max?: number): number {
    return this.#number(name, 2 ** 31 - 1, min, max);
  }

  long(name: string, min?: number, max?: number): number {
    return this.#number(name, Number.MAX_SAFE_INTEGER, min, max);
  }

  #number(name: string, limit: number, min?: number, max?: number): number {
    const v = this.get(name);
    const n = /^[ \t]*[+-]?\d+[ \t]*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || Math.abs(n) > limit)
      msg.fatal(`bad numerical configuration: ${name} = ${v}`);
    const spec = paramSpec(name);
    const lo = min ?? spec?.min;
    const hi = max ?? spec?.max;
    if (lo !== undefined && n < lo) msg.fatal(`invalid ${name} parameter value ${n} < ${lo}`);
    if (hi !== undefined && hi > 0 && n > hi) msg.fatal(`invalid ${name} parameter value ${n} > ${hi}`);
    return n;
  }

  /** A time in seconds; a bare number takes the parameter's default unit. */
  time(name: string, unit?: TimeUnit, min?: number, max?: number): number {
    const v = this.get(name);
    const spec = paramSpec(name);
    const seconds = parseTime(v, unit ?? spec?.unit ?? 's');
    if (seconds === undefined) return msg.fatal(`parameter ${name}: bad time value or unit: ${v}`);
    const lo = min ?? spec?.min;
    const hi = max ?? spec?.max;
    if (lo !== undefined && seconds < lo) msg.fatal(`invalid ${name}: ${seconds} (min ${lo})`);
    if (hi !== undefined && hi > 0 && seconds > hi) msg.fatal(`invalid ${name}: ${seconds} (max ${hi})`);
    return seconds;
  }

  /**
   * The value split on whitespace and commas, as Postfix splits lists; a
   * "{...}" group (an inline table, a braced map name) stays one item.
   */
  list(name: string): string[] {
    return listItems(this.get(name));
  }

  /** A built-in name, one that a master.cf service adds, or a smtpd_restriction_classes name. */
  isKnown(name: string, services: readonly ServiceRef[] = []): boolean {
    if (dynamicSpec(name, services) !== undefined) return true;
    return this.list('smtpd_restriction_classes').includes(name);
  }

  /**
   * Parameters set here that nothing uses, in file order: what `postconf -n`
   * warns about. A name is used when it is built in, added by a master.cf
   * service, a smtpd_restriction_classes name, or named as $name in any value
   * set here or in `references` (master.cf -o values).
   */
  unused(
    services: readonly ServiceRef[] = [],
    references: Iterable<string> = [],
  ): Array<{ name: string; value: string }> {
    const used = new Set<string>();
    for (const e of this.#entries.values()) for (const n of macroNames(e.value)) used.add(n);
    for (const text of references) for (const n of macroNames(text)) used.add(n);
    const out: Array<{ name: string; value: string }> = [];
    for (const e of this.#entries.values()) {
      if (used.has(e.name) || this.isKnown(e.name, services)) continue;
      out.push({ name: e.name, value: e.value });
    }
    return out;
  }

  /** A copy with master.cf per-service -o overrides applied ("name=value", fatal on bad syntax). */
  withOverrides(overrides: readonly string[]): MainConfig {
    const copy = new MainConfig(this.configDirectory, '', {
      file: this.file,
      macroErrorText: this.#macroError,
      initial: [...this.#entries.values()],
    });
    applyOverrides(copy, overrides);
    return copy;
  }
}

/** Seconds in "10", "10s", "5m", "2h", "1d", "1w"; undefined when malformed or out of range. */
export function parseTime(value: string, unit: TimeUnit): number | undefined {
  const m = /^[ \t]*(\d+)([smhdw]?)[ \t]*$/.exec(value);
  if (!m) return undefined;
  const factor = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[(m[2] || unit) as TimeUnit];
  const n = Number(m[1]) * factor;
  return n > 2 ** 31 - 1 ? undefined : n;
}

function applyOverrides(cfg: MainConfig, overrides: readonly string[]): void {
  for (const o of overrides) {
    const nv = splitNameValue(o);
    if (typeof nv === 'string') msg.fatal(`invalid parameter override: ${o}: ${nv}`);
    else cfg.set(nv.name, nv.value);
  }
}

export function loadMainConfig(opts: ConfigOptions = {}): MainConfig {
  const explicitDir = opts.configDir ?? process.env.MAIL_CONFIG;
  const dir = configDirectory(opts.configDir);
  const file = join(dir, 'main.cf');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!(opts.missingOk && err.code === 'ENOENT')) msg.fatal(`open ${file}: ${strerror(err)}`);
  }
  const initial: Entry[] =
    explicitDir === undefined ? [] : [{ name: 'config_directory', value: dir, line: 0 }];
  const cfg = new MainConfig(dir, text, {
    file,
    initial,
    ...(opts.macroErrorText === undefined ? {} : { macroErrorText: opts.macroErrorText }),
  });
  applyOverrides(cfg, opts.overrides ?? []);
  return cfg;
}

/**
 * The named parameters, read and checked once, as a frozen object typed by
 * the registry: numbers for int/long, seconds for time, booleans for bool,
 * strings otherwise. Bad values stop the program here, at start-up.
 */
export function loadParams<const N extends string>(
  cfg: MainConfig,
  names: readonly N[],
  services: readonly ServiceRef[] = [],
): Readonly<Record<N, ParamValue>> {
  const out: Record<string, ParamValue> = {};
  for (const name of names) {
    const spec: ParamSpec | undefined = dynamicSpec(name, services);
    switch (spec?.type) {
      case 'int':
      case 'nint':
        out[name] = cfg.int(name, spec.min, spec.max);
        break;
      case 'long':
        out[name] = cfg.long(name, spec.min, spec.max);
        break;
      case 'bool':
      case 'nbool':
        out[name] = cfg.bool(name);
        break;
      case 'time':
        out[name] = cfg.time(name, spec.unit, spec.min, spec.max);
        break;
      case 'str':
        out[name] = cfg.str(name, spec.min ?? 0, spec.max ?? 0);
        break;
      default:
        out[name] = cfg.get(name);
    }
  }
  return Object.freeze(out) as Readonly<Record<N, ParamValue>>;
}
