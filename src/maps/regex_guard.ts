/*
 * regex_guard - run translated patterns with a bound on time
 *
 * Header and body lines of every message meet these tables, so no pattern
 * may stall a daemon. Patterns go to RE2 (linear time in the key's length,
 * no backtracking) whenever RE2 can express them. Only a PCRE pattern that
 * needs backtracking features (backreferences, lookaround) runs on V8's
 * RegExp, and then inside node:vm with a timeout of MATCH_LIMIT_MS: a
 * lookup that hits the limit reports 'limit' and the table skips that
 * rule with a warning, as Postfix does when PCRE's match limit is hit. The guard costs about
 * 70 microseconds a call (a watchdog thread a call), so it is paid only by
 * the rules that need it.
 *
 * Keys and patterns are one character per byte (see regex_file.ts).
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';

type RE2Like = {
  exec(s: string | Buffer): (string | Buffer | undefined)[] | null;
  test(s: string | Buffer): boolean;
};
type RE2Ctor = new (pattern: string, flags?: string) => RE2Like;

// re2 is CommonJS; loading it through require keeps the ESM build simple.
const RE2 = createRequire(import.meta.url)('re2') as RE2Ctor;

/** Does RE2 accept this pattern (used to validate pieces such as \p{Name})? */
export function re2Accepts(source: string): boolean {
  try {
    new RE2(source);
    return true;
  } catch {
    return false;
  }
}

/** Time one backtracking match may take before its rule is skipped. */
export const MATCH_LIMIT_MS = 100;

/** A key prepared once per lookup for every rule of the table. */
export class Subject {
  #buf: Buffer | undefined;
  constructor(readonly text: string) {}
  /** UTF-8 bytes of the one-char-per-byte text: what RE2 reads without a copy per rule. */
  get buf(): Buffer {
    this.#buf ??= Buffer.from(this.text, 'utf8');
    return this.#buf;
  }
}

/** A compiled pattern: the captures (index 0 the whole match), null, or 'limit' (time limit hit). */
export interface Matcher {
  /** Number of capture groups (for $n range checks). */
  readonly groups: number;
  /** 'js' when the pattern runs on V8 under the time limit. */
  readonly engine: 're2' | 'js';
  exec(s: Subject, wantGroups: boolean): readonly (string | undefined)[] | null | 'limit';
}

const TRUE: readonly (string | undefined)[] = Object.freeze([]);

/** A pattern in RE2 syntax. Throws RE2's SyntaxError when RE2 rejects it. */
export function re2Matcher(source: string, flags: string, groups: number): Matcher {
  const re = new RE2(source, flags);
  const exec = (s: Subject, wantGroups: boolean): readonly (string | undefined)[] | null => {
    if (!wantGroups) return re.test(s.buf) ? TRUE : null;
    const m = re.exec(s.buf);
    if (!m) return null;
    return m.map((g) => (g === undefined ? undefined : g.toString('utf8')));
  };
  return { groups, engine: 're2', exec };
}

let context: vm.Context | undefined;
const RUN = new vm.Script('re.exec(s)');

/** A pattern in JavaScript syntax, run under the time limit. Throws SyntaxError when V8 rejects it. */
export function jsMatcher(source: string, flags: string, groups: number): Matcher {
  const re = new RegExp(source, flags);
  const exec = (s: Subject): readonly (string | undefined)[] | null | 'limit' => {
    context ??= vm.createContext({ re: null, s: '' });
    context.re = re;
    context.s = s.text;
    try {
      const m = RUN.runInContext(context, { timeout: MATCH_LIMIT_MS }) as RegExpExecArray | null;
      return m ? Array.from(m) : null;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'limit';
      throw e;
    } finally {
      context.re = null;
      context.s = '';
    }
  };
  return { groups, engine: 'js', exec };
}
