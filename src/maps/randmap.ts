/*
 * randmap - a random choice among fixed values
 *
 * "randmap:{value1, value2, ...}" answers every key with one of the values,
 * chosen uniformly at random; list a value more than once to weigh it.
 * Values are taken as written: braces around a value are kept (as Postfix
 * keeps them). Used e.g. to spread mail over several next hops.
 */
import { randomInt } from 'node:crypto';
import { bracedList } from './braces.js';
import { type Dict, DictOpenError, type DictOpener, found } from './dict.js';

export const openDict: DictOpener = async (name) => {
  const spec = `randmap:${name}`;
  const values = bracedList(name);
  if (values === null || values.length === 0) {
    throw new DictOpenError(spec, `bad syntax: "${spec}"; need "randmap:{value...}"`);
  }
  const dict: Dict = {
    type: 'randmap',
    name,
    lookup: async () => found(values[values.length === 1 ? 0 : randomInt(values.length)]!),
    close: async () => {},
  };
  return dict;
};
