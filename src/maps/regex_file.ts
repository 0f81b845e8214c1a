/*
 * regex_file - the table file shared by regexp: and pcre: maps
 *
 * Reads a regexp_table(5) / pcre_table(5) file and turns it into a flat
 * rule list: "/pattern/flags result", "!/pattern/flags result",
 * "if /pattern/flags" ... "endif" (nested). Logical lines follow Postfix's
 * readllines(): '#' lines and blank lines are skipped, a line starting with
 * whitespace continues the previous one (the newline is dropped), trailing
 * whitespace is trimmed, and the first line number of a logical line is the
 * one reported. Every malformed line is reported with Postfix's wording
 * ("<type> map <file>, line N: ...") and skipped; nothing here throws on
 * bad table text.
 *
 * The file is decoded as latin1: one character per byte, so that patterns
 * match bytes as Postfix's do ("." is one byte of a UTF-8 sequence), and
 * the caller converts keys and results the same way (see latin1/utf8 below).
 * The type supplies the flag parser and the compiler; this module owns the
 * syntax around them, IF/ENDIF nesting and the replacement text.
 */

import { msg } from '../global/msg.js';
import { decodeBytes, encodeBytes } from './bytes.js';
import type { Matcher } from './regex_guard.js';
import { parseReplacement, type Replacement } from './regex_subst.js';

export type { Matcher } from './regex_guard.js';

export type Rule =
  | {
      readonly op: 'match';
      readonly line: number;
      readonly negate: boolean;
      readonly re: Matcher;
      readonly result: Replacement;
    }
  | {
      readonly op: 'if';
      readonly line: number;
      readonly negate: boolean;
      readonly re: Matcher;
      endif: number;
    }
  | { readonly op: 'endif'; readonly line: number };

/** What a table type (regexp or pcre) plugs into the shared parser. */
export interface RegexType {
  /** "regexp" or "pcre", used in "<type> map <file>, line N: ...". */
  readonly type: string;
  /** Wording after a missing closing delimiter: regexp "skipping", pcre "ignoring". */
  readonly missingDelimiterAction: string;
  /** How "$0" is reported: regexp "out-of-range", pcre "out of range". */
  readonly zeroIndexWording: string;
  /**
   * Parse the flag letters; return null (after warning) to skip the rule.
   * `where` is the "<type> map <file>, line N" prefix.
   */
  parseFlags(flags: string, where: string): unknown | null;
  /** Compile; on error warn (Postfix's wording) and return null. */
  compile(pattern: string, flags: unknown, where: string): Matcher | null;
}

/** Text as one character per byte, as Postfix sees it. */
export const latin1 = (text: string): string => encodeBytes(text).toString('latin1');
/** Back from one-character-per-byte to a JavaScript string. */
export const utf8 = (bytes: string): string => {
  // Pure ASCII is the common case and needs no copy.
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) > 0x7f) return decodeBytes(Buffer.from(bytes, 'latin1'));
  }
  return bytes;
};

const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);

/** Split into logical lines: [first line number, text], as Postfix's readllines(). */
export function logicalLines(text: string, path: string): [number, string][] {
  const out: [number, string][] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let cur: [number, string] | null = null;
  lines.forEach((raw, i) => {
    const trimmed = raw.replace(/[ \t\r\n\v\f]+$/, '');
    const first = trimmed.search(/[^ \t\r\n\v\f]/);
    if (first < 0 || trimmed[first] === '#') return;
    if (first > 0) {
      if (cur) {
        cur[1] += trimmed;
        return;
      }
      const shown = trimmed.length > 30 ? `${trimmed.slice(0, 30)}...` : trimmed;
      msg.warn(`${utf8(path)}: logical line must not start with whitespace: "${utf8(shown)}"`);
      return;
    }
    cur = [i + 1, trimmed];
    out.push(cur);
  });
  return out;
}

/** Pattern part of a rule: returns [negate, pattern, flags, rest] or null after a warning. */
function getPattern(
  text: string,
  where: string,
  kind: RegexType,
): { negate: boolean; pattern: string; flags: string; rest: string } | null {
  let p = 0;
  let negate = false;
  for (; p < text.length && (isSpace(text[p]) || text[p] === '!'); p++) {
    if (text[p] === '!') negate = !negate;
  }
  const delim = text[p];
  if (delim === undefined || isAlnum(delim)) {
    msg.warn(`${where}: ignoring unrecognized request`);
    return null;
  }
  // A backslash protects the delimiter while scanning; the pattern keeps it.
  let q = p + 1;
  for (; q < text.length && text[q] !== delim; q++) {
    if (text[q] === '\\' && q + 1 < text.length) q++;
  }
  if (q >= text.length) {
    msg.warn(
      `${where}: no closing regexp delimiter "${utf8(delim)}": ${kind.missingDelimiterAction} this rule`,
    );
    return null;
  }
  const pattern = text.slice(p + 1, q);
  let f = q + 1;
  while (f < text.length && !isSpace(text[f])) f++;
  return { negate, pattern, flags: text.slice(q + 1, f), rest: text.slice(f).replace(/^[ \t\r\n\v\f]+/, '') };
}

/** Parse one table file's text into rules, warning about every bad line. */
export function parseTable(text: string, path: string, kind: RegexType): Rule[] {
  const rules: Rule[] = [];
  const open: number[] = []; // indexes of IF rules not yet closed
  for (const [line, body] of logicalLines(text, path)) {
    const where = `${kind.type} map ${utf8(path)}, line ${line}`;
    const ifMatch = /^if(?![A-Za-z0-9])/i.exec(body);
    const endifMatch = /^endif(?![A-Za-z0-9])/i.exec(body);
    if (endifMatch) {
      if (body.slice(5).replace(/^[ \t\r\n\v\f]+/, '') !== '')
        msg.warn(`${where}: ignoring extra text after ENDIF`);
      const at = open.pop();
      if (at === undefined) {
        msg.warn(`${where}: ignoring ENDIF without matching IF`);
        continue;
      }
      const rule = rules[at];
      if (rule?.op === 'if') rule.endif = rules.length;
      rules.push({ op: 'endif', line });
      continue;
    }
    const pat = getPattern(ifMatch ? body.slice(2) : body, where, kind);
    if (!pat) continue;
    const flags = kind.parseFlags(pat.flags, where);
    if (flags === null) continue;
    if (ifMatch) {
      if (pat.rest !== '') {
        msg.warn(`${where}: ignoring extra text after IF statement: "${utf8(pat.rest)}"`);
        msg.warn(`${where}: do not prepend whitespace to statements between IF and ENDIF`);
      }
      const re = kind.compile(pat.pattern, flags, where);
      if (!re) continue;
      open.push(rules.length);
      rules.push({ op: 'if', line, negate: pat.negate, re, endif: -1 });
      continue;
    }
    if (pat.rest === '') msg.warn(`${where}: no replacement text: using empty string`);
    const result = parseReplacement(pat.rest, where, kind.zeroIndexWording);
    if (!result) continue;
    if (pat.negate && result.maxGroup > 0) {
      msg.warn(`${where}: $number found in negative match replacement text: skipping this rule`);
      continue;
    }
    const re = kind.compile(pat.pattern, flags, where);
    if (!re) continue;
    if (result.maxGroup > re.groups) {
      msg.warn(`${where}: out of range replacement index "${result.maxGroup}": skipping this rule`);
      continue;
    }
    rules.push({ op: 'match', line, negate: pat.negate, re, result });
  }
  for (let i = open.length - 1; i >= 0; i--) {
    const rule = rules[open[i]!]!;
    msg.warn(`${kind.type} map ${utf8(path)}, line ${rule.line}: IF has no matching ENDIF`);
    if (rule.op === 'if') rule.endif = rules.length;
  }
  return rules;
}
