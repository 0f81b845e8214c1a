/*
 * regexp - POSIX regular expression tables (regexp_table(5))
 *
 * "regexp:/etc/postfix/file": rules "/re/flags result", "!/re/ result",
 * "if /re/" ... "endif". Flags toggle: i (case-insensitive, on by default),
 * m (REG_NEWLINE), x (extended syntax, on by default: "x" selects basic
 * syntax). Patterns are translated to RE2 (regex_posix.ts), so a lookup
 * takes time linear in the key; only a pattern with backreferences runs on
 * V8 under the time limit of regex_guard.ts. Warnings use Postfix's words,
 * including glibc's regerror() texts for bad patterns.
 */

import { msg } from '../global/msg.js';
import type { DictOpener } from './dict.js';
import { openRegexDict } from './regex_dict.js';
import type { RegexType } from './regex_file.js';
import { jsMatcher, type Matcher, re2Matcher } from './regex_guard.js';
import { type PosixOptions, translatePosix } from './regex_posix.js';

export const REGEXP: RegexType = {
  type: 'regexp',
  zeroIndexWording: 'out-of-range',
  missingDelimiterAction: 'skipping',
  parseFlags(flags, where): PosixOptions | null {
    let icase = true;
    let newline = false;
    let extended = true;
    for (const f of flags) {
      if (f === 'i') icase = !icase;
      else if (f === 'm') newline = !newline;
      else if (f === 'x') extended = !extended;
      else {
        msg.warn(`${where}: unknown regexp option "${f}": skipping this rule`);
        return null;
      }
    }
    return { icase, newline, extended };
  },
  compile(pattern, flags, where): Matcher | null {
    const opt = flags as PosixOptions;
    let t = translatePosix(pattern, opt, 're2');
    if (t.ok && t.backrefs) t = translatePosix(pattern, opt, 'js');
    if (!t.ok) {
      msg.warn(`${where}: ${t.error}`);
      return null;
    }
    const engineFlags = opt.icase ? 'i' : '';
    try {
      return t.backrefs
        ? jsMatcher(t.source, engineFlags, t.groups)
        : re2Matcher(t.source, engineFlags, t.groups);
    } catch (e) {
      // What glibc accepts but the engine cannot hold (e.g. a{2000}: RE2 stops at 1000).
      msg.warn(`${where}: ${(e as Error).message}`);
      return null;
    }
  },
};

export const openDict: DictOpener = async (name) => openRegexDict(name, REGEXP);
