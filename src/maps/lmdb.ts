/*
 * lmdb - "lmdb:/path/name": an OpenLDAP LMDB table in /path/name.lmdb
 *
 * A real LMDB file (through the lmdb package), so tables built by Postfix's
 * postmap are read here. Postfix writes keys and values with a terminating
 * null byte; lookups try both forms unless -n/-N says which, and Postroom
 * writes none (-N adds one). The library keeps its reader table in
 * /path/name.lmdb-lock.
 *
 * Atomicity comes from LMDB itself: a build (postmap) or a batch of
 * changes (postmap -i, -d, postalias) is collected in memory and applied
 * in one write transaction at close(), so a reader sees the old table or
 * the new one, never a mix. -s lists keys in LMDB's (byte) order.
 *
 * The lmdb package bundles LMDB with data format 2; Postfix's libraries
 * write format 1, which that build cannot read (it crashes on it). So the
 * format is checked before the library sees a file: a format-1 table is
 * reported (read, -i, -d) or replaced (a build), never handed over.
 */
import { closeSync, existsSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import { msg } from '../global/msg.js';
import { type Dict, type DictFlags, DictOpenError, type DictOpener, type Lookup, NOTFOUND } from './dict.js';
import { errnoText, foldKey, warnIfStale } from './store_indexed.js';

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

function openEnv(name: string, path: string, mode: DictFlags['mode']): RootDatabase<Buffer, Buffer> {
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
    return open<Buffer, Buffer>({
      path,
      noSubdir: true,
      readOnly,
      keyEncoding: 'binary',
      encoding: 'binary',
      compression: false,
      cache: false,
    });
  } catch (e) {
    if (e instanceof DictOpenError) throw e;
    throw new DictOpenError(`lmdb:${name}`, `open database ${path}: ${errnoText(e)}`);
  }
}

export const openDict: DictOpener = async (name: string, flags: DictFlags): Promise<Dict> => {
  const path = `${name}.lmdb`;
  const db = openEnv(name, path, flags.mode);
  if (flags.mode === 'read') warnIfStale(path, name);
  const withNul = flags.tryNull === true;
  const tryBoth = flags.tryNull === undefined;
  const nul = withNul ? '\0' : '';
  const get = (k: string): Buffer | undefined => {
    let v = db.getBinary(Buffer.from(k + nul));
    if (v === undefined && tryBoth) v = db.getBinary(Buffer.from(k + '\0'));
    return v === undefined ? undefined : stripNul(v);
  };
  /** Pending changes, applied in one transaction at close(); null value = delete. */
  const pending = new Map<string, string | null>();
  let clearFirst = flags.mode === 'create'; // a build replaces the whole table
  let closed = false;
  const current = (k: string): string | undefined => {
    if (pending.has(k)) return pending.get(k) ?? undefined;
    if (flags.mode === 'create') return undefined;
    return get(k)?.toString('utf8');
  };
  const commit = () => {
    if (pending.size === 0 && !clearFirst) return;
    const clear = clearFirst;
    try {
      db.transactionSync(() => {
        if (clear) db.clearSync();
        for (const [k, v] of pending) {
          if (v === null) {
            db.removeSync(Buffer.from(k + nul));
            if (tryBoth) db.removeSync(Buffer.from(k + '\0'));
          } else {
            db.putSync(Buffer.from(k + nul), Buffer.from(v + nul));
          }
        }
      });
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
      if (current(k) !== undefined) {
        if (flags.dup === 'warn') msg.warn(`lmdb:${name}: duplicate entry: "${k}"`);
        if (flags.dup !== 'replace') return 'duplicate';
      }
      pending.set(k, value);
      return 'stored';
    };
    dict.delete = async (key) => {
      const k = foldKey(key, flags);
      if (current(k) === undefined) return 'notfound';
      pending.set(k, null);
      return 'deleted';
    };
  }
  return dict;
};
