/*
 * regex_pcre - PCRE patterns (as Postfix 3.7 compiles them with PCRE2) for RE2 or V8
 *
 * Parses the PCRE syntax itself and writes an equivalent pattern:
 *   - for RE2 whenever possible (linear time): classes are resolved to byte
 *     sets ([[:alpha:]], \h, \v, \s with VT, [:^class:], \Q..\E inside),
 *     \R \N \A \z \Z \G, the table flags m s x A E U and inline (?imsxU)
 *     are rewritten into explicit constructs, so only "i" reaches the engine;
 *   - for V8 (run under the time limit of regex_guard.ts) when the pattern
 *     needs what RE2 lacks: backreferences (\1, \g{n}, \k<name>, (?P=name))
 *     and lookahead/lookbehind;
 *   - never: recursion, subroutine calls, conditionals, branch reset,
 *     callouts, backtracking verbs, \K, \X. These are rejected with a
 *     warning in Postfix's form ("error in regex at offset N: ...") and the
 *     rule is skipped, as Postfix skips a rule PCRE cannot compile.
 * Approximations (documented in docs/regex.md): atomic groups and
 * possessive quantifiers behave as ordinary ones; a non-multiline "$" (and
 * \Z) may include a final newline in the whole match. Subjects are one
 * character per byte (Postfix does not set PCRE2_UTF), so every set is
 * within 0-255.
 */
import { re2Accepts } from './regex_guard.js';
import { classBody, hex } from './regex_posix.js';

export type PcreFlags = {
  readonly icase: boolean;
  readonly multiline: boolean;
  readonly dotall: boolean;
  readonly extended: boolean;
  readonly anchored: boolean;
  readonly dollarEndOnly: boolean;
  readonly ungreedy: boolean;
};

export type PcreTranslation =
  | {
      readonly ok: true;
      readonly source: string;
      readonly flags: string;
      readonly groups: number;
      readonly engine: 're2' | 'js';
    }
  | { readonly ok: false; readonly offset: number; readonly error: string };

class PcreError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}
class NeedJs extends Error {}

type Scope = { i: boolean; m: boolean; s: boolean; x: boolean; U: boolean };

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const ALL = range(0, 255);
const DIGIT = range(0x30, 0x39);
const UPPER = range(0x41, 0x5a);
const LOWER = range(0x61, 0x7a);
const WORD = [...DIGIT, ...UPPER, ...LOWER, 0x5f];
const SPACE = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20];
const HSPACE = [0x09, 0x20, 0xa0];
const VSPACE = [0x0a, 0x0b, 0x0c, 0x0d, 0x85];
const POSIX: Record<string, number[]> = {
  alpha: [...UPPER, ...LOWER],
  upper: UPPER,
  lower: LOWER,
  digit: DIGIT,
  xdigit: [...DIGIT, ...range(0x41, 0x46), ...range(0x61, 0x66)],
  alnum: [...DIGIT, ...UPPER, ...LOWER],
  space: SPACE,
  blank: [0x09, 0x20],
  punct: [...range(0x21, 0x2f), ...range(0x3a, 0x40), ...range(0x5b, 0x60), ...range(0x7b, 0x7e)],
  print: range(0x20, 0x7e),
  graph: range(0x21, 0x7e),
  cntrl: [...range(0x00, 0x1f), 0x7f],
  word: WORD,
  ascii: range(0x00, 0x7f),
};
const not = (set: number[]): number[] => {
  const s = new Set(set);
  return ALL.filter((c) => !s.has(c));
};
const SIMPLE_ESCAPES: Record<string, number> = { a: 0x07, e: 0x1b, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
const CLASS_ESCAPES: Record<string, number[]> = {
  d: DIGIT,
  D: not(DIGIT),
  w: WORD,
  W: not(WORD),
  s: SPACE,
  S: not(SPACE),
  h: HSPACE,
  H: not(HSPACE),
  v: VSPACE,
  V: not(VSPACE),
};
const UNSUPPORTED = 'is not supported by Postroom';

const positive = (members: number[]): string => (members.length ? `[${classBody(members)}]` : '\\b\\B');

/** Translate a PCRE pattern (one char per byte), preferring RE2. */
export function translatePcre(pattern: string, flags: PcreFlags): PcreTranslation {
  try {
    try {
      return new PcreParser(pattern, flags, 're2').run();
    } catch (e) {
      if (!(e instanceof NeedJs)) throw e;
      return new PcreParser(pattern, flags, 'js').run();
    }
  } catch (e) {
    if (e instanceof PcreError) return { ok: false, offset: e.offset, error: e.message };
    throw e;
  }
}

class PcreParser {
  #p = 0;
  #groups = 0;
  #out = '';
  #scopes: Scope[];
  /** Output length where the last repeatable item starts, or -1. */
  #itemStart = -1;
  #lastWasQuantifier = false;

  constructor(
    readonly s: string,
    readonly f: PcreFlags,
    readonly target: 're2' | 'js',
  ) {
    this.#scopes = [{ i: f.icase, m: f.multiline, s: f.dotall, x: f.extended, U: f.ungreedy }];
  }

  get #scope(): Scope {
    return this.#scopes[this.#scopes.length - 1]!;
  }

  run(): PcreTranslation & { ok: true } {
    const opens: number[] = [];
    while (this.#p < this.s.length) {
      const c = this.s[this.#p]!;
      if (this.#scope.x && /[ \t\n\v\f\r]/.test(c)) {
        this.#p++;
        continue;
      }
      if (this.#scope.x && c === '#') {
        const nl = this.s.indexOf('\n', this.#p);
        this.#p = nl < 0 ? this.s.length : nl + 1;
        continue;
      }
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.#countAhead())) {
        this.#quantifier();
        continue;
      }
      this.#lastWasQuantifier = false;
      if (c === '(') {
        if (this.#open()) opens.push(this.#p);
        continue;
      }
      if (c === ')') {
        if (opens.length === 0) throw new PcreError(this.#p, 'unmatched closing parenthesis');
        opens.pop();
        this.#scopes.pop();
        if ((this.#behindStack.pop() ?? -1) >= 0) this.#behind.pop();
        this.#p++;
        this.#itemStart = this.#groupStarts.pop() ?? -1;
        this.#out += ')';
        continue;
      }
      if (c === '|') {
        this.#p++;
        // An inline flag set in one alternative lasts to the group's end in PCRE2 as well.
        this.#out += '|';
        this.#itemStart = -1;
        continue;
      }
      this.#itemStart = this.#out.length;
      if (c === '[') this.#out += this.#class();
      else if (c === '\\') this.#escape();
      else if (c === '.') {
        this.#p++;
        this.#out += this.#scope.s ? '[\\x00-\\xff]' : '[^\\n]';
      } else if (c === '^') {
        this.#p++;
        this.#out += this.#scope.m ? (this.target === 're2' ? '(?m:^)' : '(?<![^\\n])') : '^';
        this.#itemStart = -1;
      } else if (c === '$') {
        this.#p++;
        this.#out += this.#dollar();
        this.#itemStart = -1;
      } else {
        this.#p++;
        this.#out += this.#literal(c.charCodeAt(0));
      }
    }
    if (opens.length > 0) throw new PcreError(this.s.length, 'missing closing parenthesis');
    for (const r of this.#refs) {
      if (typeof r.ref === 'number' ? r.ref > this.#groups : !this.#names.has(r.ref))
        throw new PcreError(r.offset, 'reference to non-existent subpattern');
    }
    let source = this.#out;
    if (this.f.anchored) source = this.target === 're2' ? `\\A(?:${source})` : `^(?:${source})`;
    if (this.target === 're2' && this.f.icase) source = `(?i)${source}`;
    return {
      ok: true,
      source,
      flags: this.target === 'js' && this.f.icase ? 'i' : '',
      groups: this.#groups,
      engine: this.target,
    };
  }

  #groupStarts: number[] = [];
  #names = new Set<string>();
  /** For each open group: its lookbehind start, or -1. */
  #behindStack: number[] = [];
  /** Backreferences, checked once all groups are known. */
  #refs: { offset: number; ref: number | string }[] = [];
  /** Start offsets of the lookbehind assertions we are inside. */
  #behind: number[] = [];

  #dollar(): string {
    if (this.#scope.m) return this.target === 're2' ? '(?m:$)' : '(?![^\\n])';
    if (this.f.dollarEndOnly) return this.target === 're2' ? '\\z' : '$';
    return this.target === 're2' ? '(?:\\n?\\z)' : '(?=\\n?$)';
  }

  #literal(code: number): string {
    if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))
      return String.fromCharCode(code);
    if (code >= 0xc0 && this.#scope.i && this.target === 're2') return `(?-i:${hex(code)})`;
    return hex(code);
  }

  /** Is "{" here a quantifier ({n}, {n,}, {n,m})? Otherwise PCRE2 takes it literally. */
  #countAhead(): boolean {
    return /^\{\d+(,\d*)?\}/.test(this.s.slice(this.#p, this.#p + 24));
  }

  #quantifier(): void {
    const c = this.s[this.#p]!;
    let q: string;
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.#p))!;
      const end = this.#p + m[0].length - 1;
      const min = Number(m[1]);
      const max = m[2] ? (m[3] === '' ? undefined : Number(m[3])) : min;
      if (min > 65535 || (max !== undefined && max > 65535))
        throw new PcreError(end, 'number too big in {} quantifier');
      if (max !== undefined && min > max) throw new PcreError(end, 'numbers out of order in {} quantifier');
      q = m[2] ? `{${min},${max ?? ''}}` : `{${min}}`;
      this.#p += m[0].length;
    } else {
      q = c;
      this.#p++;
    }
    if (this.#itemStart < 0 || this.#lastWasQuantifier)
      throw new PcreError(this.#p - 1, 'quantifier does not follow a repeatable item');
    if (this.#behind.length > 0 && q !== `{${/\d+/.exec(q)?.[0]}}`)
      throw new PcreError(this.#behind[0]!, 'lookbehind assertion is not fixed length');
    let lazy = this.#scope.U;
    if (this.s[this.#p] === '?') {
      lazy = !lazy;
      this.#p++;
    } else if (this.s[this.#p] === '+') {
      // Possessive: no backtracking into the item; RE2 never backtracks, V8 does (approximation).
      this.#p++;
      lazy = false;
    }
    this.#out += q + (lazy ? '?' : '');
    this.#lastWasQuantifier = true;
  }

  /** "(" and its (?...) forms. Returns true when a group was opened. */
  #open(): boolean {
    const s = this.s;
    const at = this.#p;
    const rest = s.slice(at);
    const push = (text: string, scope: Scope = { ...this.#scope }): boolean => {
      if (this.#behindStack.length < this.#groupStarts.length + 1) this.#behindStack.push(-1);
      this.#groupStarts.push(this.#out.length);
      this.#scopes.push(scope);
      this.#out += text;
      this.#itemStart = -1;
      return true;
    };
    if (rest.startsWith('(*')) throw new PcreError(at + 2, `backtracking control verb ${UNSUPPORTED}`);
    if (!rest.startsWith('(?')) {
      this.#p++;
      this.#groups++;
      return push('(');
    }
    if (rest.startsWith('(?#')) {
      const end = s.indexOf(')', at);
      if (end < 0) throw new PcreError(s.length, 'missing ) after (?# comment');
      this.#p = end + 1;
      return false;
    }
    const opener = /^\(\?(?:P?<(?![=!])|')/.exec(rest);
    if (opener) {
      const named = /^\(\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
      if (!named) {
        const nameLen = /^\w*/.exec(rest.slice(opener[0].length))![0].length;
        throw new PcreError(
          at + opener[0].length + nameLen,
          'syntax error in subpattern name (missing terminator?)',
        );
      }
      this.#p += named[0].length;
      this.#groups++;
      const name = named[1] ?? named[2]!;
      if (this.#names.has(name))
        throw new PcreError(this.#p, 'two named subpatterns have the same name (PCRE2_DUPNAMES not set)');
      this.#names.add(name);
      return push(this.target === 're2' ? `(?P<${name}>` : `(?<${name}>`);
    }
    const look = /^\(\?(=|!|<=|<!)/.exec(rest);
    if (look) {
      if (this.target === 're2') throw new NeedJs();
      this.#p += look[0].length;
      this.#behindStack.push(look[1]!.startsWith('<') ? at : -1);
      if (look[1]!.startsWith('<')) this.#behind.push(at);
      return push(look[0]);
    }
    if (rest.startsWith('(?P=')) {
      if (this.target === 're2') throw new NeedJs();
      const m = /^\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (!m) throw new PcreError(at + 4, 'syntax error in subpattern name (missing terminator?)');
      this.#itemStart = this.#out.length;
      this.#refs.push({ offset: at + 4, ref: m[1]! });
      this.#out += `\\k<${m[1]}>`;
      this.#p += m[0].length;
      return false;
    }
    if (rest.startsWith('(?:')) {
      this.#p += 3;
      return push('(?:');
    }
    if (rest.startsWith('(?>')) {
      this.#p += 3;
      return push('(?:');
    }
    if (rest.startsWith('(?|')) throw new PcreError(at + 2, `branch reset ${UNSUPPORTED}`);
    if (rest.startsWith('(?(')) throw new PcreError(at + 2, `conditional subpattern ${UNSUPPORTED}`);
    if (rest.startsWith('(?C')) throw new PcreError(at + 2, `callout ${UNSUPPORTED}`);
    if (/^\(\?(R|[+-]?\d|&|P>)/.test(rest))
      throw new PcreError(at + 2, `recursion or subroutine call ${UNSUPPORTED}`);
    const fl = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (!fl) throw new PcreError(at + 2, 'unrecognized character after (? or (?-');
    const scope = { ...this.#scope };
    const apply = (letters: string, on: boolean, offset: number): void => {
      for (const [k, ch] of [...letters].entries()) {
        if (ch === 'i' || ch === 'm' || ch === 's' || ch === 'x' || ch === 'U') scope[ch] = on;
        else throw new PcreError(offset + k, 'unrecognized character after (? or (?-');
      }
    };
    apply(fl[1]!, true, at + 2);
    apply(fl[2] ?? '', false, at + 3 + fl[1]!.length);
    this.#p += fl[0].length;
    const iChange = scope.i !== this.#scope.i;
    if (iChange && this.target === 'js')
      throw new PcreError(at, `inline (?i) with lookaround or backreferences ${UNSUPPORTED}`);
    const iText = iChange ? (scope.i ? 'i' : '-i') : '';
    if (fl[3] === ':') return push(iText ? `(?${iText}:` : '(?:', scope);
    // "(?i)" changes the rest of the enclosing group.
    this.#scopes[this.#scopes.length - 1] = scope;
    if (iText) this.#out += `(?${iText})`;
    return false;
  }

  #escape(): boolean {
    const s = this.s;
    const at = this.#p;
    const c = s[at + 1];
    if (c === undefined) throw new PcreError(s.length, '\\ at end of pattern');
    this.#p += 2;
    const emit = (text: string): true => {
      this.#out += text;
      return true;
    };
    const anchor = (text: string): true => {
      this.#out += text;
      this.#itemStart = -1;
      return true;
    };
    const js = this.target === 'js';
    if (c in SIMPLE_ESCAPES) return emit(hex(SIMPLE_ESCAPES[c]!));
    if (c in CLASS_ESCAPES) return emit(positive(CLASS_ESCAPES[c]!));
    switch (c) {
      case 'Q': {
        const end = s.indexOf('\\E', this.#p);
        const text = s.slice(this.#p, end < 0 ? s.length : end);
        this.#p = end < 0 ? s.length : end + 2;
        if (text === '') {
          this.#itemStart = -1;
          return true;
        }
        // A quantifier after \Q..\E repeats its last character only.
        emit([...text.slice(0, -1)].map((ch) => this.#literal(ch.charCodeAt(0))).join(''));
        this.#itemStart = this.#out.length;
        return emit(this.#literal(text.charCodeAt(text.length - 1)));
      }
      case 'E':
        this.#itemStart = -1;
        return true;
      case 'R':
        return emit('(?:\\x0d\\x0a|[\\x0a-\\x0d\\x85])');
      case 'N':
        return emit('[^\\n]');
      case 'C':
        return emit('[\\x00-\\xff]');
      case 'b':
      case 'B':
        return anchor(`\\${c}`);
      case 'A':
      case 'G':
        return anchor(js ? '(?<![\\s\\S])' : '\\A');
      case 'z':
        return anchor(js ? '(?![\\s\\S])' : '\\z');
      case 'Z':
        return anchor(js ? '(?=\\n?(?![\\s\\S]))' : '(?:\\n?\\z)');
      case 'K':
      case 'X':
        throw new PcreError(this.#p, `\\${c} ${UNSUPPORTED}`);
      case 'c': {
        const x = s[this.#p];
        if (x === undefined) throw new PcreError(this.#p, '\\c at end of pattern');
        this.#p++;
        return emit(hex(x.toUpperCase().charCodeAt(0) ^ 0x40));
      }
      case 'x': {
        const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{0,2}))/.exec(s.slice(this.#p))!;
        this.#p += m[0].length;
        return emit(this.#code(parseInt(m[1] ?? (m[2] || '0'), 16)));
      }
      case 'o': {
        const m = /^\{([0-7]+)\}/.exec(s.slice(this.#p));
        if (!m) throw new PcreError(this.#p, 'missing opening brace after \\o');
        this.#p += m[0].length;
        return emit(this.#code(parseInt(m[1]!, 8)));
      }
      case 'p':
      case 'P': {
        const m = /^(?:\{\^?[A-Za-z_&]+\}|[A-Za-z])/.exec(s.slice(this.#p));
        if (!m) throw new PcreError(this.#p, 'malformed \\P or \\p sequence');
        if (js) throw new PcreError(at, `\\p with lookaround or backreferences ${UNSUPPORTED}`);
        this.#p += m[0].length;
        if (!re2Accepts(`\\${c}${m[0]}`)) throw new PcreError(this.#p, 'unknown property after \\P or \\p');
        return emit(`\\${c}${m[0]}`);
      }
      case 'g':
      case 'k':
        this.#backref(c, at);
        return true;
    }
    if (c === '0') {
      const m = /^[0-7]{0,2}/.exec(s.slice(this.#p))!;
      this.#p += m[0].length;
      return emit(hex(parseInt(`0${m[0]}`, 8)));
    }
    if (c >= '1' && c <= '9') {
      const m = /^\d*/.exec(s.slice(this.#p))!;
      const n = Number(c + m[0]);
      if (n >= 10 && n > this.#groups) {
        // Not a backreference: up to three octal digits, the rest literal.
        const oct = /^[0-7]{1,3}/.exec(c + m[0]);
        if (oct) {
          this.#p += oct[0].length - 1;
          return emit(this.#code(parseInt(oct[0], 8)));
        }
      }
      if (!js) throw new NeedJs();
      this.#refs.push({ offset: at + 1, ref: Number(c + m[0]) });
      this.#p += m[0].length;
      return emit(`\\${c}${m[0]}(?:)`);
    }
    if (/[A-Za-z]/.test(c)) throw new PcreError(this.#p, 'unrecognized character follows \\');
    return emit(this.#literal(c.charCodeAt(0)));
  }

  #backref(c: string, at: number): void {
    if (this.target === 're2') throw new NeedJs();
    const rest = this.s.slice(this.#p);
    const num = c === 'g' ? /^(?:\{(-?\d+)\}|(-?\d+))/.exec(rest) : null;
    if (num) {
      let n = Number(num[1] ?? num[2]);
      if (n < 0) n = this.#groups + 1 + n;
      if (n <= 0) throw new PcreError(this.#p + num[0].length, 'reference to non-existent subpattern');
      this.#refs.push({ offset: this.#p, ref: n });
      this.#p += num[0].length;
      this.#out += `\\${n}(?:)`;
      return;
    }
    const named = /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/.exec(rest);
    if (!named || (c === 'g' && named[0].startsWith('<')) || (c === 'g' && named[0].startsWith("'"))) {
      if (c === 'g' && named) throw new PcreError(at + 2, `subroutine call ${UNSUPPORTED}`);
      throw new PcreError(
        at + 2,
        c === 'g'
          ? '\\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number'
          : '\\k is not followed by a braced, angle-bracketed, or quoted name',
      );
    }
    const name = named[1] ?? named[2] ?? named[3]!;
    this.#refs.push({ offset: this.#p + 1, ref: name });
    this.#p += named[0].length;
    this.#out += `\\k<${name}>`;
  }

  #code(n: number): string {
    if (n > 0xff) throw new PcreError(this.#p, 'character code point value in \\x{} or \\o{} is too large');
    return this.#literal(n);
  }

  /** A character class, resolved to a byte set (negation left to the engine, after case folding). */
  #class(): string {
    const s = this.s;
    let p = this.#p + 1;
    const negate = s[p] === '^';
    if (negate) p++;
    const set = new Set<number>();
    const add = (list: Iterable<number>): void => {
      for (const x of list) set.add(x);
    };
    let first = true;
    let prev: number | undefined; // a single character that may start a range
    const single = (): number | number[] | undefined => {
      // One class element at p: a character code, or a set (class escape / POSIX class).
      const c = s[p];
      if (c === undefined) return undefined;
      if (c === '[' && /^\[:\^?[a-z]+:\]/.test(s.slice(p))) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(s.slice(p))!;
        const members = POSIX[m[2]!];
        if (!members) throw new PcreError(p + 2, 'unknown POSIX class name');
        p += m[0].length;
        return m[1] ? not(members) : members;
      }
      if (c !== '\\') {
        p++;
        return c.charCodeAt(0);
      }
      const e = s[p + 1];
      if (e === undefined) throw new PcreError(s.length, '\\ at end of pattern');
      p += 2;
      if (e in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[e]!;
      if (e in CLASS_ESCAPES) return CLASS_ESCAPES[e]!;
      if (e === 'b') return 0x08;
      if (e === 'x') {
        const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{0,2}))/.exec(s.slice(p))!;
        p += m[0].length;
        const n = parseInt(m[1] ?? (m[2] || '0'), 16);
        if (n > 0xff) throw new PcreError(p, 'character code point value in \\x{} or \\o{} is too large');
        return n;
      }
      if (e >= '0' && e <= '7') {
        const m = /^[0-7]{0,2}/.exec(s.slice(p))!;
        p += m[0].length;
        return parseInt(e + m[0], 8);
      }
      if (e === 'c') {
        const x = s[p++];
        if (x === undefined) throw new PcreError(p, '\\c at end of pattern');
        return x.toUpperCase().charCodeAt(0) ^ 0x40;
      }
      if (/[A-Za-z]/.test(e)) throw new PcreError(p, 'unrecognized character follows \\');
      return e.charCodeAt(0);
    };
    for (;;) {
      if (p >= s.length) throw new PcreError(s.length, 'missing terminating ] for character class');
      if (s[p] === ']' && !first) break;
      first = false;
      if (s.startsWith('\\Q', p)) {
        const end = s.indexOf('\\E', p + 2);
        const text = s.slice(p + 2, end < 0 ? s.length : end);
        p = end < 0 ? s.length : end + 2;
        for (const ch of text) set.add(ch.charCodeAt(0));
        prev = text ? text.charCodeAt(text.length - 1) : prev;
        continue;
      }
      if (s.startsWith('\\E', p)) {
        p += 2;
        continue;
      }
      if (s[p] === '-' && prev !== undefined && p + 1 < s.length && s[p + 1] !== ']') {
        p++;
        const hiAt = p;
        const hi = single();
        if (typeof hi !== 'number') {
          // "[a-\d]": the hyphen is literal.
          set.add(0x2d);
          if (hi) add(hi);
          prev = undefined;
          continue;
        }
        if (hi < prev)
          throw new PcreError(hiAt + (s[hiAt] === '\\' ? 1 : 0), 'range out of order in character class');
        add(range(prev, hi));
        prev = undefined;
        continue;
      }
      const item = single();
      if (item === undefined) continue;
      if (typeof item === 'number') {
        set.add(item);
        prev = item;
      } else {
        add(item);
        prev = undefined;
      }
    }
    this.#p = p + 1;
    if (negate) return set.size === 0 ? '[\\x00-\\xff]' : `[^${classBody(set)}]`;
    return positive([...set]);
  }
}
