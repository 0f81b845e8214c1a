/*
 * params_expand - $name expansion in parameter values, as Postfix 3.7 does it
 *
 * Forms: $name, ${name}, $(name), $$ (a literal $), ${name?text} (text when
 * name's value is non-empty), ${name:text} (when empty or undefined), the
 * 3.0 forms ${name?{text}:{text}}, and relational tests
 * ${{text} == {text} ? {text} : {text}} with == != < <= >= > (numbers when
 * both sides are decimal, else byte order) and the "level" suffix that
 * compares compatibility levels (<level, ==level, ...); a bare test
 * ${{text} == {text}} is "true" or empty. Undefined names
 * expand to nothing. The text chosen by ? or : is expanded in turn.
 *
 * Never throws and always ends: a syntax error or 102 nested expansions
 * ("unreasonable macro call nesting") stop the expansion and are reported
 * in Postfix's words in `errors`; callers decide between a warning and
 * "fatal: macro processing error".
 */

/** Unexpanded text of a parameter; undefined when it has no value at all. */
export type RawLookup = (name: string) => string | undefined;

export interface Expansion {
  readonly value: string;
  /** Warning texts, in order; non-empty means the expansion failed. */
  readonly errors: readonly string[];
}

const MAX_LEVEL = 101;
const NAME = /^[A-Za-z0-9_]*/;
const WS = /^[ \t\n\r\f\v]*/;

class Stop extends Error {}

export function expandText(text: string, lookup: RawLookup): Expansion {
  const errors: string[] = [];
  const fail = (why: string): never => {
    errors.push(why);
    throw new Stop(why);
  };

  const skipWs = (s: string, i: number): number => i + (WS.exec(s.slice(i))?.[0].length ?? 0);
  const at = (before: string, s: string, i: number): string => `"...${before}>>>${s.slice(i, i + 20)}"`;

  /** The {payload} starting at s[i] === '{': [payload, index after the '}' and any whitespace]. */
  const curly = (s: string, i: number): [string, number] => {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0) return [s.slice(i + 1, j), skipWs(s, j + 1)];
    }
    return fail(`unbalanced {} in attribute expression: "${s.slice(i)}"`);
  };

  const value = (name: string, level: number): string => {
    if (level > MAX_LEVEL) fail(`unreasonable macro call nesting: "${name}"`);
    const raw = lookup(name);
    return raw === undefined ? '' : expand(raw, level);
  };

  /**
   * The [when-true, when-false] texts after the ? or : at s[i]. Text not in
   * braces is the 2.x form: the rest, whitespace and all.
   */
  const branch = (s: string, i: number): [string | undefined, string | undefined] => {
    const c = s[i];
    const j = skipWs(s, i + 1);
    if (s[j] !== '{') {
      const rest = s.slice(i + 1);
      return c === '?' ? [rest, undefined] : [undefined, rest];
    }
    const [first, k] = curly(s, j);
    if (c === ':') {
      if (k < s.length) fail(`unexpected input at: ${at(`${first}}`, s, k)}`);
      return [undefined, first];
    }
    if (k >= s.length) return [first, undefined];
    if (s[k] !== ':') fail(`":" expected at: ${at(`${first}}`, s, k)}`);
    const m = skipWs(s, k + 1);
    if (s[m] !== '{') return [first, s.slice(k + 1)];
    const [second, n] = curly(s, m);
    if (n < s.length) fail(`unexpected input at: ${at(`${second}}`, s, n)}`);
    return [first, second];
  };

  const relational = (s: string, i: number, level: number): string => {
    const [left, j] = curly(s, i);
    const op = /^[=!<>]*/.exec(s.slice(j))?.[0] ?? '';
    if (!['==', '!=', '<', '<=', '>=', '>'].includes(op)) {
      fail(`"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: ${at(`${left}}`, s, j)}`);
    }
    let k = j + op.length;
    const suffix = /^[A-Za-z_]*/.exec(s.slice(k))?.[0] ?? '';
    if (suffix !== '' && suffix !== 'level') fail(`bad operator suffix at: "...${op}>>>${suffix}"`);
    k += suffix.length;
    const r = skipWs(s, k);
    if (s[r] !== '{') fail(`"{expression}" expected at: ${at(s.slice(0, k), s, k)}`);
    const [right, q] = curly(s, r);
    // A bare test is "true" or empty, as if written ${{..} op {..} ? {true}}.
    let yes: string | undefined = 'true';
    let no: string | undefined;
    if (q < s.length) {
      if (s[q] !== '?' && s[q] !== ':') fail(`"?" or ":" expected at: ${at('}', s, q)}`);
      [yes, no] = branch(s, q);
    }
    const a = expand(left, level);
    const b = expand(right, level);
    const holds = suffix === 'level' ? compareLevels(a, b, op, fail) : compare(a, b, op);
    const chosen = holds ? yes : no;
    return chosen === undefined ? '' : expand(chosen, level + 1);
  };

  /** The inside of ${...} or $(...). */
  const inner = (s: string, level: number): string => {
    const start = skipWs(s, 0);
    if (s[start] === '{') return relational(s, start, level);
    const name = NAME.exec(s.slice(start))?.[0] ?? '';
    const end = start + name.length;
    const q = skipWs(s, end);
    if (q >= s.length) return value(name, level + 1);
    if (s[q] !== '?' && s[q] !== ':') fail(`attribute name syntax error at: ${at(name, s, end)}`);
    const [yes, no] = branch(s, q);
    const raw = lookup(name);
    const set = raw !== undefined && raw !== '';
    const chosen = set ? yes : no;
    return chosen === undefined ? '' : expand(chosen, level + 1);
  };

  const expand = (s: string, level: number): string => {
    let out = '';
    let i = 0;
    while (i < s.length) {
      const dollar = s.indexOf('$', i);
      if (dollar < 0) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, dollar);
      const next = s[dollar + 1];
      if (next === '$') {
        out += '$';
        i = dollar + 2;
      } else if (next === '{' || next === '(') {
        const close = next === '{' ? '}' : ')';
        let depth = 0;
        let j = dollar + 1;
        for (; j < s.length; j++) {
          if (s[j] === next) depth++;
          else if (s[j] === close && --depth === 0) break;
        }
        if (j >= s.length) fail(`truncated macro reference: "${s}"`);
        const body = s.slice(dollar + 2, j);
        if (body === '') fail(`empty macro name: "${s}"`);
        out += inner(body, level);
        i = j + 1;
      } else {
        const name = NAME.exec(s.slice(dollar + 1))?.[0] ?? '';
        if (name === '') fail(`empty macro name: "${s}"`);
        out += value(name, level + 1);
        i = dollar + 1 + name.length;
      }
    }
    return out;
  };

  try {
    return { value: expand(text, 0), errors };
  } catch (e) {
    if (e instanceof Stop) return { value: '', errors };
    if (e instanceof RangeError) return { value: '', errors: [...errors, 'macro expansion too deep'] };
    throw e;
  }
}

function compare(a: string, b: string, op: string): boolean {
  const numeric = /^[+-]?\d+$/.test(a) && /^[+-]?\d+$/.test(b);
  const d = numeric ? Math.sign(Number(a) - Number(b)) : a < b ? -1 : a > b ? 1 : 0;
  return test(d, op);
}

function test(d: number, op: string): boolean {
  switch (op) {
    case '==':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>=':
      return d >= 0;
    default:
      return d > 0;
  }
}

/** Compatibility levels: major[.minor[.patch]], missing parts are zero. */
function compareLevels(a: string, b: string, op: string, fail: (why: string) => never): boolean {
  const parse = (s: string): number[] => {
    if (!/^\d+(\.\d+){0,2}$/.test(s)) fail(`malformed compatibility level syntax: "${s}"`);
    const parts = s.split('.').map(Number);
    while (parts.length < 3) parts.push(0);
    return parts;
  };
  const x = parse(a);
  const y = parse(b);
  let d = 0;
  for (let i = 0; i < 3 && d === 0; i++) d = Math.sign((x[i] ?? 0) - (y[i] ?? 0));
  return test(d, op);
}

/**
 * The parameter names a value refers to ($name, ${name...}, $(name...), and
 * those inside conditional texts), in order of appearance; for "used
 * parameter" checks. Tolerates syntax errors.
 */
export function macroNames(text: string): string[] {
  const names: string[] = [];
  // "$$" is a literal dollar, not the start of a reference.
  const re = /\$(?:\$|([A-Za-z0-9_]+)|[{(][ \t]*([A-Za-z0-9_]+))/g;
  for (const m of text.matchAll(re)) {
    const name = m[1] ?? m[2];
    if (name !== undefined) names.push(name);
  }
  return names;
}
