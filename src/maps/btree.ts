/*
 * btree - "btree:/path/name": a key-ordered table in /path/name.db
 *
 * Same file layout as hash: (store_cdb.ts) behind the magic
 * "postroom:btree1\n", with the records written in byte order of their
 * keys, so postmap -s lists a btree sorted as Berkeley DB's btree does.
 * Lookups go through the hash index. Opening a hash: file as btree: (or
 * the reverse) fails, as it does with Berkeley DB files.
 */
import type { DictOpener } from './dict.js';
import { type IndexedSpec, openIndexed } from './store_indexed.js';

export const BTREE_SPEC: IndexedSpec = {
  type: 'btree',
  suffix: '.db',
  magic: Buffer.from('postroom:btree1\n'),
  sorted: true,
  updatable: true,
  sequence: true,
  readerNamesFile: false,
  dupLabel: (_name, path) => path,
};

export const openDict: DictOpener = (name, flags) => openIndexed(BTREE_SPEC, name, flags);
