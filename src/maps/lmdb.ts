/*
 * lmdb - "lmdb:/path/name": an OpenLDAP LMDB table in /path/name.lmdb
 *
 * A real LMDB file (through the lmdb package), so tables built by Postfix's
 * postmap are read here. Postfix writes keys and values with a terminating
 * null byte; lookups try both forms unless -n/-N says which, and learn from
 * the first hit which one the table uses, as Postfix does. Postroom writes
 * none (-N adds one). The library keeps its reader table in
 * /path/name.lmdb-lock.
 *
 * Atomicity comes from LMDB itself: a build (postmap) or a batch of
 * changes (postmap -i, -d, postalias) is collected in memory and applied
 * in one write transaction at close(), synced to disk before close()
 * returns, so a reader sees the old table or the new one, never a mix.
 * A build hands LMDB its records in key order (store_lmdb_stage.ts), which
 * lets LMDB append them instead of searching its tree for each one. -s
 * lists keys in LMDB's (byte) order.
 *
 * Keys and values cross into the library as strings or byte ranges of the
 * build's buffer (a custom key encoder and value encoder), so neither a
 * lookup nor a build allocates a Buffer per entry.
 *
 * The lmdb package bundles LMDB with data format 2; Postfix's libraries
 * write format 1, which that build cannot read (it crashes on it). So the
 * format is checked before the library sees a file: a format-1 table is
 * reported (read, -i, -d) or replaced (a build), never handed over.
 */
import { closeSync, existsSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { type Key, open, type RootDatabase } from 'lmdb';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { type Dict, type DictFlags, DictOpenError, type DictOpener, type Lookup, NOTFOUND } from './dict.js';
import { foldKey, warnIfStale } from './store_indexed.js';
import { LmdbStage } from './store_lmdb_stage.js';

const stripNul = (b: Buffer): Buffer => (b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, -1) : b);

const MDB_MAGIC = 0xbeefc0de;

/** 'v2': usable; 'v1': LMDB 0.9 (Postfix); 'none': empty or missing; 'bad': not LMDB. */
function fileFormat(path: string): 'v1' | 'v2' | 'none' | 'bad' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'none';
  }
  try {
    const b = Buffer.alloc(32);
    const got = readSync(fd, b, 0, 32, 0);
    if (got === 0) return 'none';
    if (got < 32) return 'bad';
    if (b.readUInt32LE(24) === MDB_MAGIC && b.readUInt32LE(28) === 2) return 'v2';
    if (b.readUInt32LE(16) === MDB_MAGIC && b.readUInt32LE(20) === 1) return 'v1';
    return 'bad';
  } finally {
    closeSync(fd);
  }
}

/** A build's records, for the encoders while it commits (a number names the record at that offset). */
let staged: Buffer | null = null;

/**
 * Keys as LMDB sees them: a string is written as UTF-8, a number is a staged
 * record, bytes are copied. Range scans give keys back as Buffers.
 */
const KEY_ENCODER = {
  writeKey(key: unknown, target: Buffer, start: number): number {
    if (typeof key === 'string') return start + (target as Utf8Target).utf8Write(key, start);
    if (typeof key === 'number' && staged) {
      const buf = staged;
      const from = key + 8;
      const to = from + buf.readUInt32LE(key);
      // A short key is copied faster by hand than through Buffer#copy's checks.
      if (to - from > 64) target.set(buf.subarray(from, to), start);
      else for (let i = from, j = start; i < to; i++, j++) target[j] = buf[i]!;
      return start + to - from;
    }
    if (key instanceof Uint8Array) {
      target.set(key, start);
      return start + key.length;
    }
    return start;
  },
  readKey(source: Uint8Array, start: number, end: number): Buffer {
    return Buffer.from(source.subarray(start, end));
  },
};

/** A byte range that lmdb-js passes to LMDB by address, without a copy. */
type Range = Buffer & { start?: number; end?: number };

/** Values written: a staged record's bytes in place, a string as UTF-8; read back as Buffers. */
const VALUE_ENCODER = {
  copyBuffers: true, // tells lmdb-js that encode() may return a range of a buffer
  encode(value: unknown): Range {
    if (typeof value === 'number' && staged) {
      const buf: Range = staged;
      buf.start = buf.byteOffset + value + 8 + buf.readUInt32LE(value);
      buf.end = buf.start + buf.readUInt32LE(value + 4);
      return buf;
    }
    return typeof value === 'string' ? Buffer.from(value) : Buffer.from(value as Uint8Array);
  },
  decode(bytes: Uint8Array): Buffer {
    return Buffer.from(bytes);
  },
};

const APPEND = { append: true };

type Table = RootDatabase<unknown, Key>;

/** Buffer's own UTF-8 writer (what Buffer#write calls), without argument juggling; lmdb-js uses it too. */
type Utf8Target = Buffer & { utf8Write(text: string, offset: number): number };

function openEnv(name: string, path: string, mode: DictFlags['mode']): Table {
  const readOnly = mode === 'read';
  try {
    if (readOnly && !existsSync(path)) statSync(path); // Postfix's message, and the library must not create it
    const format = fileFormat(path);
    if (format === 'v1' && mode === 'create') {
      unlinkSync(path); // a build replaces the table anyway
      if (existsSync(`${path}-lock`)) unlinkSync(`${path}-lock`);
    } else if (format === 'v1' || format === 'bad') {
      const what = format === 'v1' ? 'LMDB data format 1 (made by Postfix?)' : 'not an LMDB file';
      throw new DictOpenError(
        `lmdb:${name}`,
        `open database ${path}: Invalid argument (${what}: rebuild it with postmap)`,
      );
    }
    const common = { path, noSubdir: true, keyEncoder: KEY_ENCODER, compression: false, cache: false };
    if (readOnly) return open<unknown, Key>({ ...common, readOnly: true, encoding: 'binary' });
    // A writer commits once and waits for the sync itself (no overlapping
    // sync finishing after exit); fresh pages need no zeroing.
    return open<unknown, Key>({ ...common, encoder: VALUE_ENCODER, overlappingSync: false, noMemInit: true });
  } catch (e) {
    if (e instanceof DictOpenError) throw e;
    throw new DictOpenError(`lmdb:${name}`, `open database ${path}: ${strerror(e)}`);
  }
}

export const openDict: DictOpener = async (name: string, flags: DictFlags): Promise<Dict> => {
  const path = `${name}.lmdb`;
  const db = openEnv(name, path, flags.mode);
  if (flags.mode === 'read') warnIfStale(path, name);
  const nul = flags.tryNull === true ? '\0' : '';
  // Which key forms to try (-n: without a null byte, -N: with; else both until one hits).
  let tryPlain = flags.tryNull !== true;
  let tryNul = flags.tryNull !== false;
  const fromTable = (k: string): string | undefined => {
    if (tryPlain) {
      const v = db.getBinaryFast(k);
      if (v !== undefined) {
        tryNul = false;
        return text(v);
      }
    }
    if (tryNul) {
      const v = db.getBinaryFast(`${k}\0`);
      if (v !== undefined) {
        tryPlain = false;
        return text(v);
      }
    }
    return undefined;
  };
  const build = flags.mode === 'create' ? new LmdbStage() : null;
  /** -i, -d, postalias on an existing table: changes by key, null = delete. */
  const pending = new Map<string, string | null>();
  let closed = false;
  const current = (k: string): string | undefined => {
    if (build) {
      const r = build.find(k + nul);
      return r < 0 ? undefined : stripNulText(build.value(r));
    }
    if (pending.has(k)) return pending.get(k) ?? undefined;
    return fromTable(k);
  };
  let clearFirst = build !== null; // a build replaces the whole table, even when empty
  const commit = () => {
    if (!clearFirst && pending.size === 0) return;
    try {
      if (build) commitBuild(db, build);
      else commitChanges(db, pending, nul, flags.tryNull === undefined);
    } catch (e) {
      msg.fatal(`lmdb:${name}: update failed: ${(e as Error).message}`);
    }
    pending.clear();
    clearFirst = false;
  };
  const dict: Dict = {
    type: 'lmdb',
    name,
    async lookup(key: string): Promise<Lookup> {
      const k = foldKey(key, flags);
      try {
        const v = current(k);
        return v === undefined ? NOTFOUND : { kind: 'found', value: v };
      } catch (e) {
        return { kind: 'retry', reason: `lmdb:${name}: ${(e as Error).message}` };
      }
    },
    async *sequence() {
      for (const { key, value } of db.getRange({})) {
        yield [stripNul(key as Buffer).toString('utf8'), stripNul(value as Buffer).toString('utf8')] as const;
      }
    },
    async sync() {
      commit();
    },
    async close() {
      if (closed) return;
      closed = true;
      commit();
      await db.close();
    },
  };
  if (flags.mode !== 'read') {
    dict.update = async (key, value) => {
      const k = foldKey(key, flags);
      if (build) {
        if (build.put(k + nul, value + nul, flags.dup === 'replace') === 'stored') return 'stored';
        if (flags.dup === 'warn') msg.warn(`lmdb:${name}: duplicate entry: "${k}"`);
        return 'duplicate';
      }
      if (current(k) !== undefined) {
        if (flags.dup === 'warn') msg.warn(`lmdb:${name}: duplicate entry: "${k}"`);
        if (flags.dup !== 'replace') return 'duplicate';
      }
      pending.set(k, value);
      return 'stored';
    };
    dict.delete = async (key) => {
      const k = foldKey(key, flags);
      if (build) return build.delete(k + nul) ? 'deleted' : 'notfound';
      if (current(k) === undefined) return 'notfound';
      pending.set(k, null);
      return 'deleted';
    };
  }
  return dict;
};

/** A value as text; Postfix's tables end it with a null byte. */
function text(v: Buffer): string {
  const n = v.length;
  return v.toString('utf8', 0, n > 0 && v[n - 1] === 0 ? n - 1 : n);
}

const stripNulText = (s: string): string => (s.endsWith('\0') ? s.slice(0, -1) : s);

/** Replace the table's contents with the staged records, appended in key order, in one transaction. */
function commitBuild(db: Table, build: LmdbStage): void {
  const { buf, offsets } = build.sorted();
  staged = buf;
  try {
    db.transactionSync(() => {
      db.clearSync();
      for (let i = 0; i < offsets.length; i++) {
        const off = offsets[i]!;
        // A refused append would mean a key out of order: store it the slow way, never drop it.
        if (!(db.putSync(off, off, APPEND) as unknown as boolean)) db.putSync(off, off);
      }
    });
  } finally {
    staged = null;
  }
}

/** Apply -i/-d/postalias changes in one transaction. */
function commitChanges(
  db: Table,
  pending: Map<string, string | null>,
  nul: string,
  bothForms: boolean,
): void {
  db.transactionSync(() => {
    for (const [k, v] of pending) {
      if (v === null) {
        db.removeSync(k + nul);
        if (bothForms) db.removeSync(`${k}\0`);
      } else {
        db.putSync(k + nul, v + nul);
      }
    }
  });
}
