/*
 * params_spec - the shape of one parameter declaration
 *
 * Types are Postfix's internal categories: 'str' values are $-expanded when
 * read, 'raw' values are not (the program expands them later, per message,
 * with its own attributes), 'int'/'long' are decimal numbers, 'bool' is
 * yes/no, 'time' is a number with an optional s/m/h/d/w suffix, and
 * 'nint'/'nbool' are the int/bool parameters that smtp(8) and lmtp(8) pick
 * by name because one program serves both (they read like int/bool).
 */

export type ParamType = 'str' | 'raw' | 'int' | 'long' | 'bool' | 'time' | 'nint' | 'nbool';
export type TimeUnit = 's' | 'm' | 'h' | 'd' | 'w';

/** What a computed default may consult: the value of another parameter. */
export interface ParamLookup {
  /** The parameter's value, expanded. */
  get(name: string): string;
  /** The expanded value only when main.cf or -o sets it. */
  explicit?(name: string): string | undefined;
}

export interface ParamSpec {
  readonly type: ParamType;
  /** Postfix's default text, unexpanded; a function when it depends on the host or the install. */
  readonly default: string | ((cfg?: ParamLookup) => string);
  /** Least/greatest number (int, long, time in seconds) or least/greatest length (str). */
  readonly min?: number;
  readonly max?: number;
  /** The unit of a time value written without one. */
  readonly unit?: TimeUnit;
  /** process_id, process_name, service_name: set by the program, never by main.cf. */
  readonly readOnly?: boolean;
  /** The default is computed from this host (myhostname, mynetworks, ...). */
  readonly hostDependent?: boolean;
  /** The default says where Postroom is installed, not where Debian puts Postfix. */
  readonly installDependent?: boolean;
}

type Extra = Omit<ParamSpec, 'type' | 'default'>;

export function p(type: ParamType, def: ParamSpec['default'], extra: Extra = {}): ParamSpec {
  return Object.freeze({ type, default: def, ...extra });
}

/** A bad parameter value or main.cf line, in Postfix's words (the text after "fatal: "). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
