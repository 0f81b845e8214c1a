/*
 * regex_dict - the Dict behind regexp: and pcre: tables
 *
 * Opens the file once (warnings at open time, as Postfix), then answers
 * lookups by walking the rules in order: the first rule that matches (or,
 * for "!/re/", does not match) gives the result, IF/ENDIF skip blocks.
 * The key is used as is: these tables have their own "i" flag and Postfix
 * folds neither with nor without postmap -f, so DictFlags.fold is ignored.
 * A rule that hits the time limit (regex_guard.ts) is skipped with a
 * warning naming the file and line, as Postfix skips a rule whose match
 * fails with PCRE's match limit: a "/re/" or "!/re/" rule gives no result
 * and an "if" skips its block; the search goes on with the next rule.
 */
import { readFileSync } from 'node:fs';
import { msg } from '../global/msg.js';
import { listItems, unbrace } from './braces.js';
import { type Dict, DictOpenError, found, type Lookup, NOTFOUND } from './dict.js';
import { latin1, parseTable, type RegexType, type Rule, utf8 } from './regex_file.js';
import { Subject } from './regex_guard.js';
import { substitute } from './regex_subst.js';

/**
 * The rules of an inline table ("regexp:{ {rule}, {rule} }", Postfix 3.7):
 * each braced item becomes one line, as if read from a file.
 */
function inlineText(name: string, kind: RegexType): string {
  const fail = (why: string): never => {
    throw new DictOpenError(`${kind.type}:${name}`, `${kind.type} map: ${why}`);
  };
  const outer = unbrace(name);
  if (!outer.ok) return fail(outer.error);
  return listItems(outer.inner)
    .map((item) => {
      const r = unbrace(item);
      return r.ok ? latin1(r.inner) : fail(r.error);
    })
    .join('\n');
}

export function openRegexDict(name: string, kind: RegexType): Dict {
  let text: string;
  if (name.startsWith('{')) text = inlineText(name, kind);
  else
    try {
      text = readFileSync(name).toString('latin1');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why =
        err.code === 'ENOENT'
          ? 'No such file or directory'
          : err.code === 'EACCES'
            ? 'Permission denied'
            : err.message;
      throw new DictOpenError(`${kind.type}:${name}`, `open ${name}: ${why}`);
    }
  const rules = parseTable(text, latin1(name), kind);
  return {
    type: kind.type,
    name,
    lookup: async (key) => lookupRules(rules, key, kind.type, name),
    close: async () => {},
  };
}

export function lookupRules(rules: readonly Rule[], key: string, type: string, name: string): Lookup {
  const subject = new Subject(latin1(key));
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.op === 'endif') continue;
    const wantGroups = rule.op === 'match' && !rule.negate && rule.result.maxGroup > 0;
    const m = rule.re.exec(subject, wantGroups);
    if (m === 'limit') {
      msg.warn(`${type} map ${name}, line ${rule.line}: match limit exceeded`);
      if (rule.op === 'if') i = rule.endif;
      continue;
    }
    const hit = (m !== null) !== rule.negate;
    if (rule.op === 'if') {
      if (!hit) i = rule.endif;
      continue;
    }
    if (hit) return found(utf8(substitute(rule.result, m ?? [])));
  }
  return NOTFOUND;
}
