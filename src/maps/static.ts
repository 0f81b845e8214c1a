/*
 * static - a table that answers every key with its own name
 *
 * "static:text" returns "text"; "static:{ text with spaces }" returns the
 * text inside the braces, whitespace after "{" and before "}" dropped.
 * Read-only, no sequence (as in Postfix).
 */
import { unbrace } from './braces.js';
import { type Dict, DictOpenError, type DictOpener, found } from './dict.js';

export const openDict: DictOpener = async (name) => {
  let value = name;
  if (name.startsWith('{')) {
    const r = unbrace(name);
    if (!r.ok) throw new DictOpenError(`static:${name}`, `bad static:name syntax: ${r.error}`);
    value = r.inner;
  }
  const answer = found(value);
  const dict: Dict = { type: 'static', name, lookup: async () => answer, close: async () => {} };
  return dict;
};
