/*
 * unionmap - ask every table, return all answers joined with commas
 *
 * "unionmap:{type:name, type:name, ...}" sends each query to each table in
 * order and concatenates the values found, separated by ",". Not found when
 * no table has the key (or all values found are empty). A table that cannot answer makes the whole lookup
 * a retry: a partial union would silently drop recipients or rules.
 */

import { isPatternDict } from './access_search.js';
import { type Dict, type DictOpener, found, type Lookup, NOTFOUND } from './dict.js';
import { openComponents } from './pipemap.js';

export const openDict: DictOpener = async (name, flags) => {
  const tables = await openComponents('unionmap', name, flags);
  const dict: Dict = {
    type: 'unionmap',
    name,
    // Partial keys are allowed as soon as one member is a fixed-string table.
    pattern: tables.every(isPatternDict),
    async lookup(key): Promise<Lookup> {
      // As Postfix: a comma goes before a value only when the union so far is not empty,
      // so empty member values vanish at the front ("", "a" -> "a") but not later ("a", "", "b" -> "a,,b").
      let union = '';
      for (const t of tables) {
        const r = await t.lookup(key);
        if (r.kind === 'retry') return r;
        if (r.kind === 'found') union = union === '' ? r.value : `${union},${r.value}`;
      }
      return union === '' ? NOTFOUND : found(union);
    },
    async close() {
      await Promise.all(tables.map((t) => t.close()));
    },
  };
  return dict;
};
