/*
 * inline - a small table written in its own name
 *
 * "inline:{ key=value, { key = text with, commas } }": items are separated
 * by commas or whitespace; an item in braces may contain both and may have
 * whitespace around "=". Keys are folded per the flags. A key given twice
 * keeps the last value (Postfix replaces silently). Supports sequence; the
 * order is that of first appearance (Postfix's is its hash table's, which
 * is randomised per process, so no caller can depend on it).
 */
import { bracedList, unbrace } from './braces.js';
import { type Dict, DictOpenError, type DictOpener, found, NOTFOUND } from './dict.js';
import { foldKey } from './fold.js';

const NEED = 'need "inline:{name=value...}"';

/** Postfix's split_nameval(): "name = value", no whitespace inside the name. */
export function splitNameValue(text: string): { name: string; value: string } | string {
  const t = text.replace(/^[ \t\n\r\v\f]+/, '');
  if (t === '') return 'no key found; expected format: key = value';
  const m = /^([^= \t\n\r\v\f]*)[ \t\n\r\v\f]*(=?)/.exec(t)!;
  if (m[2] !== '=') return "missing '=' after attribute name";
  const value = t.slice(m[0].length).replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
  return { name: m[1]!, value };
}

export const openDict: DictOpener = async (name, flags) => {
  const spec = `inline:${name}`;
  const fail = (why: string): never => {
    throw new DictOpenError(spec, `${why}: "${spec}"; ${NEED}`);
  };
  const items = bracedList(name);
  if (items === null) throw new DictOpenError(spec, `bad syntax: "${spec}"; ${NEED}`);
  const table = new Map<string, string>();
  for (const item of items) {
    let text = item;
    if (item.startsWith('{')) {
      const r = unbrace(item);
      if (!r.ok) fail(r.error);
      else text = r.inner;
    }
    const nv = splitNameValue(text);
    if (typeof nv === 'string') fail(nv);
    else table.set(foldKey(nv.name, flags), nv.value);
  }
  if (table.size === 0) fail('empty table');
  const dict: Dict = {
    type: 'inline',
    name,
    async lookup(key) {
      const value = table.get(foldKey(key, flags));
      return value === undefined ? NOTFOUND : found(value);
    },
    async *sequence() {
      yield* table.entries();
    },
    close: async () => {},
  };
  return dict;
};
