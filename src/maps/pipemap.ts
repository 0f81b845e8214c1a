/*
 * pipemap - a pipeline of tables
 *
 * "pipemap:{type:name, type:name, ...}": the key goes to the first table,
 * each value found becomes the key for the next, the last table's value is
 * the answer. Not found as soon as one table has no value; retry as soon as
 * one cannot answer. Also the shared parser of "{type:name, ...}" lists.
 */
import { isPatternDict } from './access_search.js';
import { bracedList } from './braces.js';
import { type Dict, type DictFlags, DictOpenError, type DictOpener, type Lookup } from './dict.js';
import { openMember as openAny } from './index.js';

/** Open each "type:name" of a "{...}" list; Postfix's wording on bad syntax. */
export async function openComponents(type: string, name: string, flags: DictFlags): Promise<Dict[]> {
  const spec = `${type}:${name}`;
  const items = bracedList(name);
  if (items === null || items.length === 0 || items.some((i) => !i.includes(':'))) {
    throw new DictOpenError(spec, `bad syntax: "${spec}"; need "${type}:{type:name...}"`);
  }
  const tables: Dict[] = [];
  try {
    for (const item of items) tables.push(await openAny(item, flags));
  } catch (e) {
    await Promise.all(tables.map((t) => t.close()));
    throw e;
  }
  return tables;
}

export const openDict: DictOpener = async (name, flags) => {
  const tables = await openComponents('pipemap', name, flags);
  const dict: Dict = {
    type: 'pipemap',
    name,
    // Partial keys are allowed as soon as one member is a fixed-string table.
    pattern: tables.every(isPatternDict),
    async lookup(key): Promise<Lookup> {
      let r: Lookup = { kind: 'found', value: key };
      for (const t of tables) {
        r = await t.lookup(r.value);
        if (r.kind !== 'found') return r;
      }
      return r;
    },
    async close() {
      await Promise.all(tables.map((t) => t.close()));
    },
  };
  return dict;
};
