/*
 * store_indexed - the Dict behind hash:, btree: and cdb: files
 *
 * A table "type:/path/name" lives in /path/name<suffix> (".db" or ".cdb"),
 * a cdb image (store_cdb.ts). Opened for reading, lookups are positioned
 * reads in that file. Opened to build (postmap) or to change (postmap -i,
 * -d, postalias), the entries are kept in memory and written out on
 * close(): into a temporary file in the same directory, fsync'd, renamed
 * over the table, then the directory fsync'd. Readers therefore see the
 * old table or the new one, never a half-built one, and need no locks.
 * Writers are serialised as Postfix's are, by the table's lock
 * (table_lock.ts), held from open (before the old contents are read) to
 * close (after the rename): a second postmap -i waits, and adds to what the
 * first one wrote.
 *
 * Keys are case-folded here when the flags ask for it, so every caller
 * (postmap, postalias, daemons) gets Postfix's fixed-case table semantics.
 * Duplicate keys are warned about in Postfix's per-type wording.
 */
import { statSync } from 'node:fs';
import { msg } from '../global/msg.js';
import { writeFileAtomic } from '../util/atomic_file.js';
import { strerror } from '../util/strerror.js';
import { decodeBytes, encodeBytes, hasRawBytes } from './bytes.js';
import {
  type Dict,
  type DictFlags,
  DictOpenError,
  type Lookup,
  NOTFOUND,
  type UpdateResult,
} from './dict.js';
import { CdbBuilder, CdbFormatError, CdbReader } from './store_cdb.js';
import { lockTable } from './table_lock.js';

/** Extra open flags that only file-building callers (postmap, postalias) set. */
export interface BuildFlags extends DictFlags {
  /** Permissions for a table file that does not exist yet (postmap -p: 0644; else derived from the source). */
  readonly createMode?: number;
}

export interface IndexedSpec {
  readonly type: string;
  readonly suffix: string;
  /** Bytes before the cdb image; checked on open. Empty for a real cdb file. */
  readonly magic: Buffer;
  /** Write records in key order (btree: -s lists them sorted). */
  readonly sorted: boolean;
  /** cdb files cannot be changed in place, nor listed (as in Postfix). */
  readonly updatable: boolean;
  readonly sequence: boolean;
  /** A reader's Dict name is the file itself (Postfix's cdb: "table cdb:/x/y.cdb: ..."). */
  readonly readerNamesFile: boolean;
  /** Who a duplicate-entry warning names (Postfix names the file it was writing). */
  dupLabel(name: string, path: string): string;
}

export function foldKey(key: string, flags: DictFlags): string {
  if (!flags.fold) return key;
  // Without SMTPUTF8, Postfix folds ASCII only.
  return flags.utf8 ? key.toLowerCase() : key.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** Keys and values with bytes that are not UTF-8 (bytes.ts) are stored as those bytes. */
const bytes = (text: string): string | Buffer => (hasRawBytes(text) ? encodeBytes(text) : text);

const stripNul = (b: Buffer): Buffer => (b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, -1) : b);

/** Open per Postfix: missing file and bad format are DictOpenErrors in its words. */
function openReader(spec: IndexedSpec, path: string): CdbReader {
  try {
    if (spec.magic.length > 0 && !CdbReader.readPrefix(path, spec.magic.length).equals(spec.magic)) {
      throw new CdbFormatError('not a Postroom table');
    }
    return new CdbReader(path, spec.magic.length);
  } catch (e) {
    throw openError(spec, path, e);
  }
}

function openError(spec: IndexedSpec, path: string, e: unknown): DictOpenError {
  if (e instanceof CdbFormatError) {
    return new DictOpenError(
      `${spec.type}:${path}`,
      `open database ${path}: Invalid argument (not a Postroom ${spec.type} file: rebuild it with postmap)`,
    );
  }
  return new DictOpenError(`${spec.type}:${path}`, `open database ${path}: ${strerror(e)}`);
}

/** Postfix warns when a table was not rebuilt after its source changed (grace: 100 s for a rebuild in progress). */
export function warnIfStale(dbPath: string, sourcePath: string): void {
  try {
    const src = statSync(sourcePath);
    const db = statSync(dbPath);
    if (src.mtimeMs > db.mtimeMs && src.mtimeMs < Date.now() - 100_000) {
      msg.warn(`database ${dbPath} is older than source file ${sourcePath}`);
    }
  } catch {
    // No source file next to the table: nothing to compare.
  }
}

export async function openIndexed(spec: IndexedSpec, name: string, flags: DictFlags): Promise<Dict> {
  const path = name + spec.suffix;
  if (flags.mode === 'read') return readerDict(spec, name, path, flags);
  if (flags.mode === 'update' && !spec.updatable) {
    throw new DictOpenError(
      `${spec.type}:${name}`,
      `dict_${spec.type}_open: inappropriate open flags for ${spec.type} database - specify O_RDONLY or O_WRONLY|O_CREAT|O_TRUNC`,
    );
  }
  return writerDict(spec, name, path, flags);
}

function readerDict(spec: IndexedSpec, name: string, path: string, flags: DictFlags): Dict {
  const reader = openReader(spec, path);
  warnIfStale(path, name);
  // Postfix tries keys with and without a terminating null byte until it learns which the file uses.
  const withNul = flags.tryNull === true;
  const tryBoth = flags.tryNull === undefined && spec.magic.length === 0;
  let keyBuf = Buffer.allocUnsafe(256);
  const encode = (k: string): Buffer => {
    if (k.length * 3 > keyBuf.length) keyBuf = Buffer.allocUnsafe(k.length * 3);
    if (hasRawBytes(k)) return encodeBytes(k);
    return keyBuf.subarray(0, keyBuf.write(k, 0, 'utf8'));
  };
  const dict: Dict = {
    type: spec.type,
    name: spec.readerNamesFile ? path : name,
    async lookup(key: string): Promise<Lookup> {
      const k = foldKey(key, flags);
      try {
        let v = reader.get(encode(withNul ? k + '\0' : k));
        if (v === undefined && tryBoth) v = reader.get(encode(k + '\0'));
        return v === undefined ? NOTFOUND : { kind: 'found', value: decodeBytes(stripNul(v)) };
      } catch (e) {
        return { kind: 'retry', reason: strerror(e) };
      }
    },
    async close() {
      reader.close();
    },
  };
  if (spec.sequence) {
    dict.sequence = async function* () {
      for (const [k, v] of reader.entries()) yield [decodeBytes(stripNul(k)), decodeBytes(stripNul(v))];
    };
  }
  return dict;
}

async function writerDict(spec: IndexedSpec, name: string, path: string, flags: BuildFlags): Promise<Dict> {
  // One writer at a time, from before the old contents are read until the new file is in place.
  let release: () => void;
  try {
    release = await lockTable(path);
  } catch (e) {
    throw new DictOpenError(`${spec.type}:${name}`, (e as Error).message);
  }
  const table = new CdbBuilder();
  let dirty = flags.mode === 'create';
  if (flags.mode === 'update') {
    let reader: CdbReader | undefined;
    try {
      reader = openReader(spec, path);
    } catch (e) {
      // A table that does not exist yet is created, as with O_CREAT.
      if (!(e instanceof DictOpenError) || !/No such file/.test(e.message)) {
        release();
        throw e;
      }
      dirty = true;
    }
    if (reader) {
      for (const [k, v] of reader.entries()) table.put(k, v);
      reader.close();
    }
  }
  const label = spec.dupLabel(name, path);
  // Only a real cdb file may carry Postfix's terminating null bytes (-N).
  const nul = flags.tryNull === true && spec.magic.length === 0 ? '\0' : '';
  let closed = false;
  const flush = () => {
    if (!dirty) return;
    try {
      writeFileAtomic(path, table.finish(spec.magic, spec.sorted), { createMode: flags.createMode ?? 0o644 });
    } catch (e) {
      msg.fatal(`open database ${path}: ${strerror(e)}`);
    }
    dirty = false;
  };
  return {
    type: spec.type,
    name,
    async lookup(key) {
      const v = table.get(bytes(foldKey(key, flags) + nul));
      return v === undefined ? NOTFOUND : { kind: 'found', value: decodeBytes(stripNul(v)) };
    },
    async update(key, value): Promise<UpdateResult> {
      const k = foldKey(key, flags);
      if (table.put(bytes(k + nul), bytes(value + nul), flags.dup === 'replace') === 'duplicate') {
        if (flags.dup === 'warn') msg.warn(`${label}: duplicate entry: "${k}"`);
        return 'duplicate';
      }
      dirty = true;
      return 'stored';
    },
    async delete(key) {
      if (!table.delete(bytes(foldKey(key, flags) + nul))) return 'notfound';
      dirty = true;
      return 'deleted';
    },
    sequence: spec.sequence
      ? async function* () {
          for (const [k, v] of table.entries()) yield [decodeBytes(stripNul(k)), decodeBytes(stripNul(v))];
        }
      : undefined,
    async sync() {
      flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      flush();
      release();
    },
  };
}
