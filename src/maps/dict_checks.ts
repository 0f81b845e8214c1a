/*
 * dict_checks - what every table's answers go through, whatever its type
 *
 * openDict() wraps each table it opens, as Postfix's dict layer and its
 * lookup callers do, so that no caller can forget a check:
 *
 *  - Empty values. A table must answer "not found", never "". The outer
 *    table (not a pipemap/unionmap/proxy member) warns with Postfix's
 *    words: for postmap/postalias ('show') "table T:N: key K: empty string
 *    result is not allowed" and "table T:N should return NO RESULT in case
 *    of NOT FOUND", and the value is still shown; for daemons ('retry')
 *    "TITLE lookup of K returns an empty string result" and the lookup
 *    answers retry (a configuration error defers mail, never rejects it).
 *    postmap -s warns the same way, and about an empty key.
 */
import { msg } from '../global/msg.js';
import { type Dict, type DictFlags, type Lookup, retry } from './dict.js';

export type Role = 'outer' | 'member';

export function checkedDict(dict: Dict, flags: DictFlags, role: Role): Dict {
  if (role === 'member') return dict;
  const label = `${dict.type}:${dict.name}`;
  const show = flags.emptyValue === 'show';
  const emptyValue = (key: string): void => {
    if (show) {
      msg.warn(`table ${label}: key ${key}: empty string result is not allowed`);
      msg.warn(`table ${label} should return NO RESULT in case of NOT FOUND`);
    } else {
      const title = flags.title ?? label;
      msg.warn(`${title} lookup of ${key} returns an empty string result`);
      msg.warn(`${title} should return NO RESULT in case of NOT FOUND`);
    }
  };
  // Plain function, no extra await per lookup when the value is fine.
  const check = (key: string, r: Lookup): Lookup => {
    if (r.kind !== 'found' || r.value !== '') return r;
    emptyValue(key);
    return show ? r : retry('');
  };
  const inner = dict;
  const wrapped: Dict = {
    type: inner.type,
    name: inner.name,
    lookup: (key) => inner.lookup(key).then((r) => check(key, r)),
    close: () => inner.close(),
  };
  if (inner.pattern !== undefined) Object.assign(wrapped, { pattern: inner.pattern });
  if (inner.update) wrapped.update = inner.update.bind(inner);
  if (inner.delete) wrapped.delete = inner.delete.bind(inner);
  if (inner.sync) wrapped.sync = inner.sync.bind(inner);
  const seq = inner.sequence?.bind(inner);
  if (seq) {
    wrapped.sequence = async function* () {
      for await (const [k, v] of seq()) {
        if (k === '') msg.warn(`table ${label}: empty lookup key value is not allowed`);
        else if (v === '') emptyValue(k);
        yield [k, v] as const;
      }
    };
  }
  return wrapped;
}
