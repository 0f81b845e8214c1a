/*
 * pcre - Perl-compatible regular expression tables (pcre_table(5))
 *
 * "pcre:/etc/postfix/file", same file syntax as regexp: tables. Flags
 * toggle: i (case-insensitive, on), m (multiline), s (dot matches newline,
 * on), x (extended), A (anchored), E (dollar at the very end only),
 * U (ungreedy); X is obsolete with PCRE2 and ignored with a warning, as in
 * Postfix 3.7. Patterns run on RE2 when it can express them and otherwise
 * on V8 under a time limit (regex_pcre.ts, regex_guard.ts); what neither
 * can run is reported as a regex error and the rule is skipped.
 */
import { msg } from '../global/msg.js';
import type { DictOpener } from './dict.js';
import { openRegexDict } from './regex_dict.js';
import type { RegexType } from './regex_file.js';
import { jsMatcher, type Matcher, re2Matcher } from './regex_guard.js';
import { type PcreFlags, translatePcre } from './regex_pcre.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const LETTERS: Record<string, keyof PcreFlags> = {
  i: 'icase',
  m: 'multiline',
  s: 'dotall',
  x: 'extended',
  A: 'anchored',
  E: 'dollarEndOnly',
  U: 'ungreedy',
};

export const PCRE: RegexType = {
  type: 'pcre',
  zeroIndexWording: 'out of range',
  missingDelimiterAction: 'ignoring',
  parseFlags(flags, where): PcreFlags | null {
    const f: Mutable<PcreFlags> = {
      icase: true,
      multiline: false,
      dotall: true,
      extended: false,
      anchored: false,
      dollarEndOnly: false,
      ungreedy: false,
    };
    for (const c of flags) {
      const name = LETTERS[c];
      if (name) f[name] = !f[name];
      else if (c === 'X') msg.warn(`${where}: ignoring obsolete regexp option "X"`);
      else {
        msg.warn(`${where}: unknown regexp option "${c}": skipping this rule`);
        return null;
      }
    }
    return f;
  },
  compile(pattern, flags, where): Matcher | null {
    const t = translatePcre(pattern, flags as PcreFlags);
    if (!t.ok) {
      msg.warn(`${where}: error in regex at offset ${t.offset}: ${t.error}`);
      return null;
    }
    try {
      return t.engine === 're2'
        ? re2Matcher(t.source, t.flags, t.groups)
        : jsMatcher(t.source, t.flags, t.groups);
    } catch (e) {
      msg.warn(`${where}: error in regex at offset 0: ${(e as Error).message}`);
      return null;
    }
  },
};

export const openDict: DictOpener = async (name) => openRegexDict(name, PCRE);
