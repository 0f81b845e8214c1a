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
 *
 *  - UTF-8 (smtputf8_enable=yes, DictFlags.utf8), as Postfix's dict_utf8
 *    layer, on every table including members: a key that is not valid
 *    UTF-8 (bytes.ts) is not looked up ('T:N: non-UTF-8 key "K": malformed
 *    UTF-8 or invalid codepoint', not found; a delete of it "succeeds"), a
 *    value that is not is refused ('T:N: key "K": non-UTF-8 value "V":
 *    ...', retry without a reason: a configuration error). T:N names the
 *    table's file for the indexed types, as Postfix's does. Listing (-s)
 *    is not checked, as in Postfix. Without SMTPUTF8 bytes pass as they are.
 */
import { msg } from '../global/msg.js';
import { hasRawBytes, printable } from './bytes.js';
import { type Dict, type DictFlags, type Lookup, NOTFOUND, retry } from './dict.js';

export type Role = 'outer' | 'member';

/** Postfix's dict name of a file-based table is its file. */
const FILE_SUFFIX: Readonly<Record<string, string>> = {
  hash: '.db',
  btree: '.db',
  lmdb: '.lmdb',
  cdb: '.cdb',
};

function fileLabel(dict: Dict): string {
  const suffix = FILE_SUFFIX[dict.type];
  const name = suffix && !dict.name.endsWith(suffix) ? dict.name + suffix : dict.name;
  return `${dict.type}:${name}`;
}

export function checkedDict(dict: Dict, flags: DictFlags, role: Role): Dict {
  const utf8 = flags.utf8 ? utf8Checked(dict) : null;
  const empty = role === 'outer' ? emptyChecked(dict, flags) : null;
  if (!utf8 && !empty) return dict;
  const wrapped = delegate(dict);
  // One promise step per lookup, whatever the checks: lookups are the hot path.
  const after =
    utf8 && empty ? (key: string, r: Lookup) => empty.value(key, utf8.value(key, r)) : (utf8 ?? empty)!.value;
  wrapped.lookup = (key) =>
    utf8?.badKey(key) ? Promise.resolve(NOTFOUND) : dict.lookup(key).then((r) => after(key, r));
  const del = dict.delete?.bind(dict);
  // Postfix's postmap -d exits 0 for a non-UTF-8 key, as if it had been deleted.
  if (utf8 && del) wrapped.delete = async (key) => (utf8.badKey(key) ? 'deleted' : del(key));
  if (empty?.sequence) wrapped.sequence = empty.sequence;
  return wrapped;
}

interface Checks {
  /** Warn about a key the table must not be asked; true when refused. */
  badKey(key: string): boolean;
  /** The answer to pass on. */
  value(key: string, r: Lookup): Lookup;
  sequence?: () => AsyncIterable<readonly [string, string]>;
}

const MALFORMED = 'malformed UTF-8 or invalid codepoint';

function utf8Checked(inner: Dict): Checks {
  const label = fileLabel(inner);
  return {
    badKey(key) {
      if (!hasRawBytes(key)) return false;
      msg.warn(`${label}: non-UTF-8 key "${printable(key, true)}": ${MALFORMED}`);
      return true;
    },
    value(key, r) {
      if (r.kind !== 'found' || !hasRawBytes(r.value)) return r;
      msg.warn(`${label}: key "${key}": non-UTF-8 value "${printable(r.value, true)}": ${MALFORMED}`);
      return retry('');
    },
  };
}

/** A Dict that forwards everything to `inner`. */
function delegate(inner: Dict): Dict {
  const d: Dict = {
    type: inner.type,
    name: inner.name,
    lookup: (key) => inner.lookup(key),
    close: () => inner.close(),
  };
  if (inner.pattern !== undefined) Object.assign(d, { pattern: inner.pattern });
  if (inner.update) d.update = inner.update.bind(inner);
  if (inner.delete) d.delete = inner.delete.bind(inner);
  if (inner.sync) d.sync = inner.sync.bind(inner);
  if (inner.sequence) d.sequence = inner.sequence.bind(inner);
  return d;
}

function emptyChecked(dict: Dict, flags: DictFlags): Checks {
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
  const checks: Checks = {
    badKey: () => false,
    value(key, r) {
      if (r.kind !== 'found' || r.value !== '') return r;
      emptyValue(key);
      return show ? r : retry('');
    },
  };
  const seq = dict.sequence?.bind(dict);
  if (seq) {
    checks.sequence = async function* () {
      for await (const [k, v] of seq()) {
        if (k === '') msg.warn(`table ${label}: empty lookup key value is not allowed`);
        else if (v === '') emptyValue(k);
        yield [k, v] as const;
      }
    };
  }
  return checks;
}
