/*
 * regex_subst - result text of regexp: and pcre: rules ($1, ${1}, $(1), $$)
 *
 * Parsed once when the table is opened, so a lookup only joins pieces.
 * The syntax and warnings are Postfix's mac_parse() ones: "$$" is a "$",
 * "$name", "${name}" or "$(name)" is a macro whose name must be a positive
 * number ("non-numeric replacement index", "out-of-range replacement index"
 * for 0); a "$" not followed by a name is "empty macro name", an unclosed
 * brace "truncated macro reference", and both stop the scan. Any problem
 * skips the rule ("bad replacement syntax: skipping this rule").
 */
import { msg } from '../global/msg.js';

/** Literal text and capture group numbers, in order. */
export interface Replacement {
  readonly parts: readonly (string | number)[];
  /** Highest $n used (0 when none). */
  readonly maxGroup: number;
}

const NAME = /^[A-Za-z0-9_]+/;

/** Parse result text; null (after warnings) when the rule must be skipped. `where` is "type map file, line N". */
export function parseReplacement(
  text: string,
  where: string,
  zeroWording = 'out-of-range',
): Replacement | null {
  const parts: (string | number)[] = [];
  let lit = '';
  let maxGroup = 0;
  let bad = false;
  const macro = (name: string): void => {
    if (!/^[0-9]+$/.test(name)) {
      msg.warn(`${where}: non-numeric replacement index "${toText(name)}"`);
      bad = true;
      return;
    }
    const n = Number(name);
    if (n < 1) {
      msg.warn(`${where}: ${zeroWording} replacement index "${toText(name)}"`);
      bad = true;
      return;
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(n);
    maxGroup = Math.max(maxGroup, n);
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c !== '$') {
      lit += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      lit += '$';
      i += 2;
      continue;
    }
    if (next === '{' || next === '(') {
      const close = next === '{' ? '}' : ')';
      let depth = 1;
      let j = i + 2;
      for (; j < text.length; j++) {
        if (text[j] === next) depth++;
        else if (text[j] === close && --depth === 0) break;
      }
      if (j >= text.length) {
        msg.warn(`truncated macro reference: "${toText(text)}"`);
        bad = true;
        break;
      }
      const name = text.slice(i + 2, j);
      if (name === '') {
        msg.warn(`empty macro name: "${toText(text)}"`);
        bad = true;
        break;
      }
      macro(name);
      i = j + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) {
      msg.warn(`empty macro name: "${toText(text)}"`);
      bad = true;
      break;
    }
    macro(name);
    i += 1 + name.length;
  }
  if (bad) {
    msg.warn(`${where}: bad replacement syntax: skipping this rule`);
    return null;
  }
  if (lit || parts.length === 0) parts.push(lit);
  return { parts, maxGroup };
}

/** The result for one match; unmatched groups give empty text. */
export function substitute(r: Replacement, groups: readonly (string | undefined)[]): string {
  if (r.parts.length === 1 && typeof r.parts[0] === 'string') return r.parts[0];
  let out = '';
  for (const p of r.parts) out += typeof p === 'string' ? p : (groups[p] ?? '');
  return out;
}

/** Table text is one character per byte; messages are UTF-8. */
function toText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
