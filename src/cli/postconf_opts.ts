/*
 * postconf_opts - postconf's command line: options, their conflicts, the mode
 *
 * Pure: parses argv into a PostconfCommand or returns the diagnostic that
 * Postfix 3.7's postconf prints for the same command line. The conflict
 * rules were learned by running the real command on every pair and many
 * triples of options: a few "at most one of" groups are checked in a fixed
 * order (the first group with two or more members set is reported, all its
 * set members named), then each display mode rejects the options it does
 * not use. Flags are always named in one fixed order, whatever the order
 * on the command line.
 */
import { getopt } from '../util/getopt.js';

export const USAGE =
  'usage: postconf [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)]' +
  ' [-c config_dir] [-c param_class] [-d (parameter defaults)] [-e (edit configuration)]' +
  ' [-f (fold lines)] [-F (master.cf fields)] [-h (no names)] [-H (no values)] [-l (lock types)]' +
  ' [-m (map types)] [-M (master.cf)] [-n (non-default parameters)]' +
  ' [-o name=value (override parameter value)] [-p (main.cf, default)] [-P (master.cf parameters)]' +
  ' [-t (bounce templates)] [-T compile-version|run-version|public-key-algorithms] [-v (verbose)]' +
  ' [-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] [name...]';

/** -E is accepted by getopt but has no meaning: it earns the usage line, as in Postfix. */
const OPTSTRING = 'aAbc:C:deEfFhHlmMno:pPtT:vxX#';

/** The order in which Postfix names flags in its complaints. */
const FLAG_ORDER = 'aAbdefFhHlmMnopPtTxX#';

export type Mode = 'a' | 'A' | 'b' | 'F' | 'l' | 'm' | 'M' | 'p' | 'P' | 't' | 'T';
const MODES: readonly Mode[] = ['a', 'A', 'b', 'F', 'l', 'm', 'M', 'p', 'P', 't', 'T'];

/** "At most one of" groups, in the order they are checked. */
const EXCLUSIVE: readonly string[] = ['aAbFlmMpPtT', 'denX#', 'efX#', 'exX#', 'deoX#', 'ehHX#'];

/** Options each mode refuses ("with option -m, do not specify -d"). */
const REFUSED: Readonly<Record<Mode, string>> = {
  a: 'defhHnoxX#',
  A: 'defhHnoxX#',
  b: 'defhHnoxX#',
  l: 'defhHnoxX#',
  m: 'defhHnoxX#',
  t: 'defhHnoxX#',
  T: 'defhHnoxX#',
  M: 'dhHn',
  F: 'dnX#',
  P: 'dn#',
  p: '',
};

export type ParamClass = 'builtin' | 'service' | 'user';
const CLASS_NAMES: Readonly<Record<string, readonly ParamClass[]>> = {
  builtin: ['builtin'],
  service: ['service'],
  user: ['user'],
  all: ['builtin', 'service', 'user'],
};

export type Edit = 'none' | 'e' | 'X' | '#';

export interface PostconfCommand {
  readonly mode: Mode;
  readonly edit: Edit;
  /** Single-letter flags that were given (or implied, like -e by "name=value"). */
  readonly flags: ReadonlySet<string>;
  readonly configDir: string | undefined;
  readonly classes: ReadonlySet<ParamClass>;
  readonly overrides: readonly string[];
  readonly tlsMode: string | undefined;
  readonly verbose: number;
  readonly operands: readonly string[];
}

/** A command line Postfix refuses: `usage` says whether the usage line follows `text`. */
export type OptsError = { readonly kind: 'error'; readonly getopt?: string; readonly text: string };

function named(set: ReadonlySet<string>, among: string): string {
  return [...FLAG_ORDER]
    .filter((f) => among.includes(f) && set.has(f))
    .map((f) => `-${f}`)
    .join(' ');
}

export function parsePostconfArgs(argv: readonly string[]): PostconfCommand | OptsError {
  const r = getopt(argv, OPTSTRING);
  const flags = new Set<string>();
  let configDir: string | undefined;
  let classes = new Set<ParamClass>(CLASS_NAMES.all);
  const overrides: string[] = [];
  let tlsMode: string | undefined;
  let verbose = 0;
  for (const o of r.opts) {
    switch (o.opt) {
      case 'c':
        configDir = o.arg;
        break;
      case 'C': {
        classes = new Set();
        for (const word of (o.arg ?? '').split(/[\s,]+/).filter((w) => w !== '')) {
          const c = CLASS_NAMES[word];
          if (!c) return { kind: 'error', text: `unknown -C option value "${word}" in "${o.arg}"` };
          for (const k of c) classes.add(k);
        }
        break;
      }
      case 'o':
        flags.add('o');
        overrides.push(o.arg ?? '');
        break;
      case 'T':
        flags.add('T');
        tlsMode = o.arg;
        break;
      case 'v':
        verbose++;
        break;
      case 'E':
        return { kind: 'error', text: USAGE };
      default:
        flags.add(o.opt);
    }
  }
  // Options before a bad one took effect first, as they do in Postfix's loop.
  if (r.kind === 'error') return { kind: 'error', getopt: r.message, text: USAGE };
  const operands = r.operands;
  // Since Postfix 2.8 a "name=value" first operand means -e.
  if (operands[0]?.includes('=')) flags.add('e');

  if (flags.has('b') && flags.has('t')) return { kind: 'error', text: 'specify one of -b and -t' };
  for (const group of EXCLUSIVE) {
    const set = [...group].filter((f) => flags.has(f));
    if (set.length > 1) return { kind: 'error', text: `specify one of ${named(flags, group)}` };
  }
  const mode = MODES.find((m) => flags.has(m)) ?? 'p';
  const refused = named(flags, REFUSED[mode]);
  if (refused !== '') return { kind: 'error', text: `with option -${mode}, do not specify ${refused}` };

  const edit: Edit = flags.has('e') ? 'e' : flags.has('X') ? 'X' : flags.has('#') ? '#' : 'none';
  if (edit === 'e' && operands.length === 0)
    return { kind: 'error', text: '-e requires name=value argument' };
  if ((edit === 'X' || edit === '#') && operands.length === 0)
    return { kind: 'error', text: 'missing service argument' };
  return { mode, edit, flags, configDir, classes, overrides, tlsMode, verbose, operands };
}
