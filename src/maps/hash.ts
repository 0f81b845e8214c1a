/*
 * hash - "hash:/path/name": an indexed table in /path/name.db
 *
 * Built by postmap/postalias, read by everyone. The file is Postroom's own
 * (a cdb image behind the 16-byte magic "postroom:hash:1\n", see
 * store_cdb.ts and docs/tables.md), not Berkeley DB: a hash table is all
 * Postfix's semantics need, and this one builds faster and needs no lock.
 * Records keep their insertion order, so -s lists them in that order.
 */
import type { DictOpener } from './dict.js';
import { type IndexedSpec, openIndexed } from './store_indexed.js';

export const HASH_SPEC: IndexedSpec = {
  type: 'hash',
  suffix: '.db',
  magic: Buffer.from('postroom:hash:1\n'),
  sorted: false,
  updatable: true,
  sequence: true,
  readerNamesFile: false,
  dupLabel: (_name, path) => path,
};

export const openDict: DictOpener = (name, flags) => openIndexed(HASH_SPEC, name, flags);
