/*
 * cdb - "cdb:/path/name": a constant database in /path/name.cdb
 *
 * The real cdb format (store_cdb.ts), so files built by Postfix's postmap
 * are read here and the reverse. As in Postfix, a cdb table is built
 * whole (postmap, postalias) and cannot be updated (-i, -d) or listed
 * (-s). Postfix writes keys and values without a terminating null byte
 * unless -N is given; lookups try both forms unless -n/-N says which.
 */
import type { DictOpener } from './dict.js';
import { type IndexedSpec, openIndexed } from './store_indexed.js';

export const CDB_SPEC: IndexedSpec = {
  type: 'cdb',
  suffix: '.cdb',
  magic: Buffer.alloc(0),
  sorted: false,
  updatable: false,
  sequence: false,
  readerNamesFile: true,
  dupLabel: (name) => name,
};

export const openDict: DictOpener = (name, flags) => openIndexed(CDB_SPEC, name, flags);
