/*
 * regex_posix - POSIX regular expressions (regcomp(3) as glibc does them) for RE2
 *
 * Postfix's regexp: tables use regcomp() with REG_EXTENDED and REG_ICASE by
 * default; the "x" flag turns REG_EXTENDED off (basic syntax, GNU flavour),
 * "m" sets REG_NEWLINE. This module parses that syntax itself, reports
 * errors with glibc's regerror() wording, and writes an equivalent pattern
 * in a syntax RE2 runs (or V8, for the backreferences RE2 cannot do):
 *   - bracket expressions are resolved to explicit byte sets in the C
 *     locale: "[]a]", "[^]a]", "[a\]" (a backslash is literal there),
 *     [:class:], [.c.], [=c=], ranges;
 *   - "." and "[^...]" match a newline unless "m" is on; "^"/"$" are the
 *     string's ends, or also the lines' ends with "m";
 *   - GNU escapes \w \W \s \S \b \B \< \> \` \'; any other escaped
 *     character is literal, except that with REG_ICASE glibc makes an
 *     escaped lower-case letter match nothing, and so do we;
 *   - stacked repetitions ("a**", "a+?" is (a+)? in POSIX) are nested.
 * Subjects are one character per byte, so every set is within 0-255.
 * Known difference: POSIX picks the longest of the leftmost matches, RE2
 * and V8 the first alternative that matches; whether a rule matches is the
 * same, only $n text may differ for patterns like /(a|ab)(c|bcd)?/.
 */

export type Target = 're2' | 'js';
export type Translation =
  | { readonly ok: true; readonly source: string; readonly groups: number; readonly backrefs: boolean }
  | { readonly ok: false; readonly error: string };

export interface PosixOptions {
  readonly extended: boolean;
  readonly icase: boolean;
  readonly newline: boolean;
}

const E_PAREN = 'Unmatched ( or \\(';
const E_BRACE = 'Unmatched \\{';
const E_BADBR = 'Invalid content of \\{\\}';
const E_BADRPT = 'Invalid preceding regular expression';
const E_BRACK = 'Unmatched [, [^, [:, [., or [=';
const E_RANGE = 'Invalid range end';
const E_CTYPE = 'Invalid character class name';
const E_COLLATE = 'Invalid collation character';
const E_ESCAPE = 'Trailing backslash';
const E_SUBREG = 'Invalid back reference';
const E_SIZE = 'Regular expression too big';
const E_PATTERN = 'Invalid regular expression';
const DUP_MAX = 0x7fff;

class PosixError extends Error {}

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
/** C-locale character classes. */
const CLASSES: Record<string, number[]> = {
  alpha: [...range(0x41, 0x5a), ...range(0x61, 0x7a)],
  upper: range(0x41, 0x5a),
  lower: range(0x61, 0x7a),
  digit: range(0x30, 0x39),
  xdigit: [...range(0x30, 0x39), ...range(0x41, 0x46), ...range(0x61, 0x66)],
  alnum: [...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a)],
  space: [...range(0x09, 0x0d), 0x20],
  blank: [0x09, 0x20],
  punct: [...range(0x21, 0x2f), ...range(0x3a, 0x40), ...range(0x5b, 0x60), ...range(0x7b, 0x7e)],
  print: range(0x20, 0x7e),
  graph: range(0x21, 0x7e),
  cntrl: [...range(0x00, 0x1f), 0x7f],
};
const WORD = [...CLASSES.alnum!, 0x5f];

export const hex = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`;

/** A set of byte values as a class body, ranges merged. */
export function classBody(members: Iterable<number>): string {
  const sorted = [...new Set(members)].sort((a, b) => a - b);
  let out = '';
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out += j > i ? `${hex(sorted[i]!)}-${hex(sorted[j]!)}` : hex(sorted[i]!);
    i = j + 1;
  }
  return out;
}

/** Translate one POSIX pattern (one char per byte) for the target engine. */
export function translatePosix(pattern: string, opt: PosixOptions, target: Target): Translation {
  try {
    return new PosixParser(pattern, opt, target).run();
  } catch (e) {
    if (e instanceof PosixError) return { ok: false, error: e.message };
    throw e;
  }
}

type Atom = { text: string; quantified: boolean; anchor: boolean };

class PosixParser {
  #p = 0;
  #groups = 0;
  #closed = new Set<number>();
  #backrefs = false;
  constructor(
    readonly s: string,
    readonly o: PosixOptions,
    readonly target: Target,
  ) {}

  run(): Translation {
    const source = this.alternation(0);
    if (this.#p < this.s.length) throw new PosixError(this.o.extended ? E_PATTERN : E_PAREN);
    return { ok: true, source, groups: this.#groups, backrefs: this.#backrefs };
  }

  get #ere(): boolean {
    return this.o.extended;
  }
  #peek(n = 0): string | undefined {
    return this.s[this.#p + n];
  }
  #atAltBar(): boolean {
    return this.#ere ? this.#peek() === '|' : this.#peek() === '\\' && this.#peek(1) === '|';
  }
  #atGroupEnd(depth: number): boolean {
    if (depth === 0) return false;
    return this.#ere ? this.#peek() === ')' : this.#peek() === '\\' && this.#peek(1) === ')';
  }

  alternation(depth: number): string {
    const branches = [this.branch(depth)];
    while (this.#atAltBar()) {
      this.#p += this.#ere ? 1 : 2;
      branches.push(this.branch(depth));
    }
    return branches.join('|');
  }

  branch(depth: number): string {
    const atoms: Atom[] = [];
    while (this.#p < this.s.length && !this.#atAltBar() && !this.#atGroupEnd(depth)) {
      if (this.#quantifierHere(atoms)) {
        const last = atoms[atoms.length - 1];
        if (!last || last.anchor) throw new PosixError(E_BADRPT);
        if (last.quantified && !this.#ere) throw new PosixError(E_BADRPT);
        const q = this.#quantifier();
        last.text = last.quantified ? `(?:${last.text})${q}` : `${last.text}${q}`;
        last.quantified = true;
        continue;
      }
      atoms.push(this.atom(depth, atoms.length === 0));
    }
    return atoms.map((a) => a.text).join('');
  }

  /** Is the next token a repetition operator (in BRE "*" at a branch start is literal)? */
  #quantifierHere(atoms: Atom[]): boolean {
    const c = this.#peek();
    if (this.#ere) return c === '*' || c === '+' || c === '?' || c === '{';
    if (c === '*') return atoms.length > 0 && !(atoms.length === 1 && atoms[0]!.anchor);
    return c === '\\' && (this.#peek(1) === '{' || this.#peek(1) === '+' || this.#peek(1) === '?');
  }

  #quantifier(): string {
    const c = this.s[this.#p]!;
    if (c === '\\') this.#p++;
    const op = this.s[this.#p++]!;
    if (op !== '{') return op;
    const close = this.#ere ? '}' : '\\}';
    const end = this.s.indexOf(close, this.#p);
    if (end < 0) throw new PosixError(E_BRACE);
    const body = this.s.slice(this.#p, end);
    this.#p = end + close.length;
    const m = /^(\d*)(,(\d*))?$/.exec(body);
    if (!m || body === '' || (m[1] === '' && !m[2])) throw new PosixError(E_BADBR);
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] ? (m[3] === '' ? undefined : Number(m[3])) : min;
    if (min > DUP_MAX || (max !== undefined && max > DUP_MAX)) throw new PosixError(E_SIZE);
    if (max !== undefined && min > max) throw new PosixError(E_BADBR);
    if (!m[2]) return `{${min}}`;
    return max === undefined ? `{${min},}` : `{${min},${max}}`;
  }

  atom(depth: number, branchStart: boolean): Atom {
    const c = this.s[this.#p]!;
    const lit = (text: string): Atom => ({ text, quantified: false, anchor: false });
    const anchor = (text: string): Atom => ({ text, quantified: false, anchor: true });
    if (this.#ere) {
      if (c === '(') return this.#group(depth, 1);
      if (c === '^') return this.#skip(anchor(this.#lineStart()));
      if (c === '$') return this.#skip(anchor(this.#lineEnd()));
    } else {
      if (c === '\\' && this.#peek(1) === '(') return this.#group(depth, 2);
      if (c === '^' && branchStart) return this.#skip(anchor(this.#lineStart()));
      if (c === '$' && this.#bareEnd(depth)) return this.#skip(anchor(this.#lineEnd()));
      if (c === '*') return this.#skip(lit(hex(0x2a)));
    }
    if (c === '[') return lit(this.#bracket());
    if (c === '.') return this.#skip(lit(this.o.newline ? '[^\\n]' : '[\\x00-\\xff]'));
    if (c === '\\') return this.#escape();
    this.#p++;
    return lit(this.#literal(c.charCodeAt(0)));
  }

  /** Consume one character that makes the given atom. */
  #skip(a: Atom): Atom {
    this.#p++;
    return a;
  }

  /** BRE: "$" is an anchor only at the end of a branch. */
  #bareEnd(depth: number): boolean {
    const save = this.#p;
    this.#p++;
    const end = this.#p >= this.s.length || this.#atAltBar() || this.#atGroupEnd(depth);
    this.#p = save;
    return end;
  }

  #group(depth: number, open: number): Atom {
    this.#p += open;
    const n = ++this.#groups;
    const inner = this.alternation(depth + 1);
    if (!this.#atGroupEnd(depth + 1)) throw new PosixError(E_PAREN);
    this.#p += open;
    this.#closed.add(n);
    return { text: `(${inner})`, quantified: false, anchor: false };
  }

  #lineStart(): string {
    if (!this.o.newline) return '^';
    return this.target === 're2' ? '(?m:^)' : '(?<![^\\n])';
  }
  #lineEnd(): string {
    if (!this.o.newline) return '$';
    return this.target === 're2' ? '(?m:$)' : '(?![^\\n])';
  }

  #literal(code: number): string {
    if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))
      return String.fromCharCode(code);
    // The C locale folds ASCII letters only; keep RE2 from folding Latin-1 bytes.
    if (code >= 0xc0 && this.o.icase && this.target === 're2') return `(?-i:${hex(code)})`;
    return hex(code);
  }

  #escape(): Atom {
    const c = this.s[this.#p + 1];
    if (c === undefined) throw new PosixError(E_ESCAPE);
    this.#p += 2;
    const lit = (text: string): Atom => ({ text, quantified: false, anchor: false });
    const anchor = (text: string): Atom => ({ text, quantified: false, anchor: true });
    const js = this.target === 'js';
    if (c >= '1' && c <= '9') {
      const n = Number(c);
      if (!this.#closed.has(n)) throw new PosixError(E_SUBREG);
      this.#backrefs = true;
      return lit(`\\${n}`);
    }
    switch (c) {
      case 'w':
        return lit(`[${classBody(WORD)}]`);
      case 'W':
        return lit(`[^${classBody(WORD)}]`);
      case 's':
        return lit(`[${classBody(CLASSES.space!)}]`);
      case 'S':
        return lit(`[^${classBody(CLASSES.space!)}]`);
      case 'b':
        return anchor('\\b');
      case 'B':
        return anchor('\\B');
      // RE2 has no lookaround: a word start/end is approximated by a word boundary.
      case '<':
        return anchor(js ? '\\b(?=\\w)' : '\\b');
      case '>':
        return anchor(js ? '\\b(?<=\\w)' : '\\b');
      case '`':
        return anchor(js ? '(?<![\\s\\S])' : '\\A');
      case "'":
        return anchor(js ? '(?![\\s\\S])' : '\\z');
    }
    if (this.o.icase && c >= 'a' && c <= 'z') return lit('\\b\\B');
    return lit(this.#literal(c.charCodeAt(0)));
  }

  /** A bracket expression, resolved to an explicit set. */
  #bracket(): string {
    const s = this.s;
    let p = this.#p + 1;
    if (p >= s.length) throw new PosixError(E_PATTERN);
    const negate = s[p] === '^';
    if (negate) p++;
    const set = new Set<number>();
    let first = true;
    let lastSingle: number | undefined; // a range may start here
    let afterRange = false;
    for (;;) {
      if (p >= s.length) throw new PosixError(E_BRACK);
      const c = s[p]!;
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && (s[p + 1] === ':' || s[p + 1] === '.' || s[p + 1] === '=')) {
        const kind = s[p + 1]!;
        const end = s.indexOf(`${kind}]`, p + 2);
        if (end < 0) throw new PosixError(E_BRACK);
        const name = s.slice(p + 2, end);
        p = end + 2;
        if (kind === ':') {
          const members = CLASSES[name];
          if (!members) throw new PosixError(E_CTYPE);
          if (s[p] === '-' && s[p + 1] !== ']') throw new PosixError(E_RANGE);
          for (const m of members) set.add(m);
          lastSingle = undefined;
          afterRange = false;
          continue;
        }
        if (name.length !== 1) throw new PosixError(E_COLLATE);
        const code = name.charCodeAt(0);
        set.add(code);
        lastSingle = kind === '.' ? code : undefined;
        afterRange = false;
        continue;
      }
      if (c === '-' && lastSingle !== undefined && s[p + 1] !== ']' && p + 1 < s.length) {
        let hi: number;
        p++;
        if (s[p] === '[' && s[p + 1] === '.') {
          const end = s.indexOf('.]', p + 2);
          if (end < 0) throw new PosixError(E_BRACK);
          const name = s.slice(p + 2, end);
          if (name.length !== 1) throw new PosixError(E_COLLATE);
          hi = name.charCodeAt(0);
          p = end + 2;
        } else if (s[p] === '[' && (s[p + 1] === ':' || s[p + 1] === '=')) {
          throw new PosixError(E_RANGE);
        } else {
          hi = s.charCodeAt(p++);
        }
        if (hi < lastSingle) throw new PosixError(E_RANGE);
        for (const m of range(lastSingle, hi)) set.add(m);
        lastSingle = undefined;
        afterRange = true;
        continue;
      }
      if (c === '-' && afterRange && s[p + 1] !== ']') throw new PosixError(E_RANGE);
      set.add(c.charCodeAt(0));
      lastSingle = c.charCodeAt(0);
      afterRange = false;
      p++;
    }
    this.#p = p + 1;
    if (negate) {
      if (this.o.newline) set.add(0x0a);
      return set.size === 0 ? '[\\x00-\\xff]' : `[^${classBody(set)}]`;
    }
    if (set.size === 0) return '\\b\\B';
    return `[${classBody(set)}]`;
  }
}
