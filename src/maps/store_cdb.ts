/*
 * store_cdb - D. J. Bernstein's constant database format, written and read
 *
 * The layout is the published cdb format (as tinycdb and Postfix's cdb:
 * tables use it), all integers 32-bit little-endian:
 *
 *	header	256 x (table position, table slot count)        2048 bytes
 *	records	key length, value length, key bytes, value bytes
 *	tables	slots of (hash, record position); 0 position = empty
 *
 * A record whose key hashes to h (h = 5381; h = (h * 33) ^ byte) lives in
 * table h & 255, probed linearly from slot (h >>> 8) % slots. Every table
 * has twice as many slots as records, so a probe sequence always ends.
 *
 * Postroom's hash: and btree: files are the same image behind a short
 * magic header (`base` bytes); all positions stay absolute file offsets.
 * A file is written once, in full, and never changed in place, so a
 * reader needs no locks: a new table replaces the file by rename.
 *
 * Readers use positioned reads (no whole-file load), so a daemon holding a
 * large table open pays only for the pages its lookups touch.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const HEADER = 2048;
const MAX_OFFSET = 0xffffffff;

export function cdbHash(buf: Uint8Array, start = 0, end = buf.length): number {
  let h = 5381;
  for (let i = start; i < end; i++) h = (((h << 5) + h) ^ buf[i]!) >>> 0;
  return h;
}

/** An error in the file itself (truncated, not a cdb image). */
export class CdbFormatError extends Error {}

/**
 * Build a cdb image of the given records, in the order given, behind
 * `prefix`. Returns the whole file as one buffer (the caller writes it
 * atomically). Throws when the file would exceed the format's 4 GB limit.
 */
export function buildCdb(
  prefix: Uint8Array,
  entries: Iterable<readonly [Uint8Array | string, Uint8Array | string]>,
): Buffer {
  let buf = Buffer.allocUnsafe(1 << 16);
  let off = prefix.length + HEADER;
  let hashes = new Uint32Array(1024);
  let positions = new Uint32Array(1024);
  let n = 0;
  const ensure = (need: number) => {
    if (off + need <= buf.length) return;
    let size = buf.length * 2;
    while (size < off + need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    buf.copy(bigger, 0, 0, off);
    buf = bigger;
  };
  const put = (data: Uint8Array | string, at: number): number => {
    if (typeof data === 'string') {
      ensure(data.length * 3 + 8);
      return buf.write(data, at, 'utf8');
    }
    ensure(data.length + 8);
    buf.set(data, at);
    return data.length;
  };
  for (const [key, value] of entries) {
    const start = off;
    ensure(8);
    const klen = put(key, start + 8);
    off = start + 8 + klen; // keep ensure() copying the key on growth
    const vlen = put(value, off);
    buf.writeUInt32LE(klen, start);
    buf.writeUInt32LE(vlen, start + 4);
    off += vlen;
    if (off > MAX_OFFSET) throw new CdbFormatError('table too large for the cdb format (4 GB)');
    if (n === hashes.length) {
      const h2 = new Uint32Array(n * 2);
      h2.set(hashes);
      hashes = h2;
      const p2 = new Uint32Array(n * 2);
      p2.set(positions);
      positions = p2;
    }
    hashes[n] = cdbHash(buf, start + 8, start + 8 + klen);
    positions[n] = start;
    n++;
  }
  // Hash tables: count per table, then place each record by linear probing.
  const counts = new Uint32Array(256);
  for (let i = 0; i < n; i++) counts[hashes[i]! & 255]!++;
  const tableBytes = n * 16;
  if (off + tableBytes > MAX_OFFSET) throw new CdbFormatError('table too large for the cdb format (4 GB)');
  ensure(tableBytes);
  const slotsAt = new Uint32Array(256);
  let at = off;
  for (let t = 0; t < 256; t++) {
    const slots = counts[t]! * 2;
    slotsAt[t] = at;
    buf.writeUInt32LE(at, prefix.length + t * 8);
    buf.writeUInt32LE(slots, prefix.length + t * 8 + 4);
    at += slots * 8;
  }
  buf.fill(0, off, at);
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    const t = h & 255;
    const slots = counts[t]! * 2;
    let s = (h >>> 8) % slots;
    for (;;) {
      const p = slotsAt[t]! + s * 8;
      if (buf.readUInt32LE(p + 4) === 0) {
        buf.writeUInt32LE(h, p);
        buf.writeUInt32LE(positions[i]!, p + 4);
        break;
      }
      if (++s === slots) s = 0;
    }
  }
  buf.set(prefix, 0);
  return buf.subarray(0, at);
}

/**
 * A cdb image built record by record, for postmap: records go straight
 * into the output buffer and an in-memory index of their hashes finds
 * duplicates, so a million-line build keeps no per-entry JavaScript
 * objects. Deleted or replaced records are dropped when the image is
 * finished. Positions are relative to the start of the image.
 */
export class CdbBuilder {
  #buf = Buffer.allocUnsafe(1 << 20);
  #off = HEADER;
  #n = 0;
  #hashes = new Uint32Array(1024);
  #positions = new Float64Array(1024); // -1: deleted
  #index = new Int32Array(2048); // record number + 1, open addressing on the hash
  #live = 0;
  #garbage = false; // deleted or replaced records: compact at finish()

  get size(): number {
    return this.#live;
  }

  #ensure(need: number): void {
    if (this.#off + need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#off + need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.#buf.copy(bigger, 0, 0, this.#off);
    this.#buf = bigger;
  }

  /** The record number holding the key bytes at [start, end) of the buffer, or -1. */
  #find(h: number, start: number, end: number): number {
    const mask = this.#index.length - 1;
    const buf = this.#buf;
    const klen = end - start;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const r = this.#index[s]! - 1;
      if (r < 0) return -1;
      if (this.#hashes[r] !== h) continue;
      const pos = this.#positions[r]!;
      if (pos < 0 || buf.readUInt32LE(pos) !== klen) continue;
      if (buf.compare(buf, start, end, pos + 8, pos + 8 + klen) === 0) return r;
    }
  }

  #insertIndex(h: number, r: number): void {
    const mask = this.#index.length - 1;
    let s = h & mask;
    while (this.#index[s] !== 0) s = (s + 1) & mask;
    this.#index[s] = r + 1;
  }

  #grow(): void {
    const n = this.#n;
    const h2 = new Uint32Array(n * 2);
    h2.set(this.#hashes);
    this.#hashes = h2;
    const p2 = new Float64Array(n * 2);
    p2.set(this.#positions);
    this.#positions = p2;
    this.#index = new Int32Array(this.#index.length * 2);
    for (let r = 0; r < n; r++) this.#insertIndex(this.#hashes[r]!, r);
  }

  /** Stage the key at the end of the buffer; returns [hash, record start, key end]. */
  #stageKey(key: string | Uint8Array): [number, number, number] {
    const start = this.#off;
    let klen: number;
    if (typeof key === 'string') {
      this.#ensure(key.length * 3 + 8);
      klen = this.#buf.write(key, start + 8, 'utf8');
    } else {
      this.#ensure(key.length + 8);
      this.#buf.set(key, start + 8);
      klen = key.length;
    }
    return [cdbHash(this.#buf, start + 8, start + 8 + klen), start, start + 8 + klen];
  }

  /** The value stored under `key`, if any. */
  get(key: string | Uint8Array): Buffer | undefined {
    const [h, start, kend] = this.#stageKey(key);
    const r = this.#find(h, start + 8, kend);
    if (r < 0) return undefined;
    const pos = this.#positions[r]!;
    const klen = this.#buf.readUInt32LE(pos);
    const vlen = this.#buf.readUInt32LE(pos + 4);
    return Buffer.from(this.#buf.subarray(pos + 8 + klen, pos + 8 + klen + vlen));
  }

  /** Add a record unless the key exists; with `replace`, the new value wins. */
  put(key: string | Uint8Array, value: string | Uint8Array, replace = false): 'stored' | 'duplicate' {
    const [h, start, kend] = this.#stageKey(key);
    const old = this.#find(h, start + 8, kend);
    if (old >= 0 && !replace) return 'duplicate';
    this.#off = kend; // keep the staged key when the buffer grows
    let vlen: number;
    if (typeof value === 'string') {
      this.#ensure(value.length * 3);
      vlen = this.#buf.write(value, kend, 'utf8');
    } else {
      this.#ensure(value.length);
      this.#buf.set(value, kend);
      vlen = value.length;
    }
    this.#buf.writeUInt32LE(kend - start - 8, start);
    this.#buf.writeUInt32LE(vlen, start + 4);
    this.#off = kend + vlen;
    if (old >= 0) {
      this.#positions[old] = start; // the old bytes become garbage, dropped at finish()
      this.#garbage = true;
      return 'stored';
    }
    this.#live++;
    if (this.#n === this.#hashes.length || this.#n * 2 >= this.#index.length) this.#grow();
    this.#hashes[this.#n] = h;
    this.#positions[this.#n] = start;
    this.#insertIndex(h, this.#n);
    this.#n++;
    return 'stored';
  }

  delete(key: string | Uint8Array): boolean {
    const [h, start, kend] = this.#stageKey(key);
    const r = this.#find(h, start + 8, kend);
    if (r < 0) return false;
    this.#positions[r] = -1;
    this.#live--;
    this.#garbage = true;
    return true;
  }

  /** Live records, in the order they were first added. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (let r = 0; r < this.#n; r++) {
      const pos = this.#positions[r]!;
      if (pos < 0) continue;
      const klen = this.#buf.readUInt32LE(pos);
      const vlen = this.#buf.readUInt32LE(pos + 4);
      yield [
        this.#buf.subarray(pos + 8, pos + 8 + klen),
        this.#buf.subarray(pos + 8 + klen, pos + 8 + klen + vlen),
      ];
    }
  }

  /** The finished file: `prefix` then the image; records in key byte order when `sorted`. */
  finish(prefix: Uint8Array, sorted: boolean): Buffer {
    if (sorted) {
      const all = [...this.entries()].sort((a, b) => Buffer.compare(a[0], b[0]));
      return buildCdb(prefix, all);
    }
    if (this.#garbage) return buildCdb(prefix, this.entries());
    // Fast path: the records are already laid out; add header and tables in place.
    const n = this.#n;
    const recordsEnd = this.#off;
    const counts = new Uint32Array(256);
    for (let i = 0; i < n; i++) counts[this.#hashes[i]! & 255]!++;
    const base = prefix.length;
    if (base + recordsEnd + n * 16 > MAX_OFFSET)
      throw new CdbFormatError('table too large for the cdb format (4 GB)');
    const out = Buffer.allocUnsafe(base + recordsEnd + n * 16);
    out.set(prefix, 0);
    this.#buf.copy(out, base + HEADER, HEADER, recordsEnd);
    const slotsAt = new Uint32Array(256);
    let at = base + recordsEnd;
    for (let t = 0; t < 256; t++) {
      const slots = counts[t]! * 2;
      slotsAt[t] = at;
      out.writeUInt32LE(at, base + t * 8);
      out.writeUInt32LE(slots, base + t * 8 + 4);
      at += slots * 8;
    }
    out.fill(0, base + recordsEnd, at);
    for (let i = 0; i < n; i++) {
      const h = this.#hashes[i]!;
      const t = h & 255;
      const slots = counts[t]! * 2;
      let s = (h >>> 8) % slots;
      for (;;) {
        const p = slotsAt[t]! + s * 8;
        if (out.readUInt32LE(p + 4) === 0) {
          out.writeUInt32LE(h, p);
          out.writeUInt32LE(base + this.#positions[i]!, p + 4);
          break;
        }
        if (++s === slots) s = 0;
      }
    }
    return out;
  }
}

/** A cdb image in a file, read with positioned reads. */
export class CdbReader {
  readonly #fd: number;
  readonly #base: number;
  readonly #size: number;
  readonly #header: Buffer;
  #scratch = Buffer.allocUnsafe(512);
  readonly #slots = Buffer.allocUnsafe(64);
  readonly #tables: (Buffer | undefined)[] = new Array(256);
  #lookups = 0;
  #closed = false;

  /** Open `path`; the image starts `base` bytes into the file. Throws the open error (ENOENT...). */
  constructor(path: string, base = 0) {
    this.#fd = openSync(path, 'r');
    this.#base = base;
    try {
      this.#size = fstatSync(this.#fd).size;
      if (this.#size < base + HEADER) throw new CdbFormatError('file too short for a cdb header');
      this.#header = Buffer.allocUnsafe(HEADER);
      this.#read(this.#header, HEADER, base);
      for (let t = 0; t < 256; t++) {
        const pos = this.#header.readUInt32LE(t * 8);
        const slots = this.#header.readUInt32LE(t * 8 + 4);
        if (pos < base + HEADER || pos + slots * 8 > this.#size)
          throw new CdbFormatError('bad cdb table pointer');
      }
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
  }

  /** The prefix bytes before the image (a magic header, for hash:/btree:). */
  static readPrefix(path: string, length: number): Buffer {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(length);
      const got = readSync(fd, b, 0, length, 0);
      return b.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  #read(into: Buffer, length: number, position: number): number {
    let got = 0;
    while (got < length) {
      const r = readSync(this.#fd, into, got, length - got, position + got);
      if (r === 0) break;
      got += r;
    }
    return got;
  }

  /** The value stored under `key` (exact bytes), or undefined. */
  get(key: Buffer): Buffer | undefined {
    const h = cdbHash(key);
    const t = h & 255;
    const tpos = this.#header.readUInt32LE(t * 8);
    const slots = this.#header.readUInt32LE(t * 8 + 4);
    if (slots === 0) return undefined;
    let s = (h >>> 8) % slots;
    const cached = this.#tableCache(t, tpos, slots);
    if (cached) {
      for (let probed = 0; probed < slots; probed++) {
        const rpos = cached.readUInt32LE(s * 8 + 4);
        if (rpos === 0) return undefined;
        if (cached.readUInt32LE(s * 8) === h) {
          const v = this.#record(rpos, key);
          if (v) return v;
        }
        if (++s === slots) s = 0;
      }
      return undefined;
    }
    const slotBuf = this.#slots;
    for (let probed = 0; probed < slots; ) {
      const batch = Math.min(8, slots - s);
      this.#read(slotBuf, batch * 8, tpos + s * 8);
      for (let b = 0; b < batch; b++, probed++) {
        const rpos = slotBuf.readUInt32LE(b * 8 + 4);
        if (rpos === 0) return undefined;
        if (slotBuf.readUInt32LE(b * 8) !== h) continue;
        const v = this.#record(rpos, key);
        if (v) return v;
      }
      s += batch;
      if (s === slots) s = 0;
    }
    return undefined;
  }

  /**
   * The slots of hash table t, kept in memory once a table has answered
   * enough lookups to be worth it: a long-running reader then pays one
   * read per lookup (the record), a one-shot "postmap -q" reads only the
   * few slots it probes. Bounded by the file's own table area (16 bytes
   * a record).
   */
  #tableCache(t: number, tpos: number, slots: number): Buffer | undefined {
    const hit = this.#tables[t];
    if (hit) return hit;
    if (++this.#lookups < 64 || slots * 8 > 1 << 24) return undefined;
    const b = Buffer.allocUnsafe(slots * 8);
    if (this.#read(b, b.length, tpos) < b.length) throw new CdbFormatError('truncated cdb table');
    this.#tables[t] = b;
    return b;
  }

  /** The value of the record at `pos` when its key equals `key`. */
  #record(pos: number, key: Buffer): Buffer | undefined {
    let buf = this.#scratch;
    let got = this.#read(buf, Math.min(buf.length, this.#size - pos), pos);
    if (got < 8) throw new CdbFormatError('truncated cdb record');
    const klen = buf.readUInt32LE(0);
    const vlen = buf.readUInt32LE(4);
    if (klen !== key.length) return undefined;
    const need = 8 + klen + vlen;
    if (pos + need > this.#size) throw new CdbFormatError('truncated cdb record');
    if (got < need) {
      if (need > buf.length) buf = Buffer.allocUnsafe(need);
      got = this.#read(buf, need, pos);
    }
    if (!key.equals(buf.subarray(8, 8 + klen))) return undefined;
    return Buffer.from(buf.subarray(8 + klen, need));
  }

  /** Every record in file order. */
  *entries(): Generator<[Buffer, Buffer]> {
    const end = this.#header.readUInt32LE(0);
    let pos = this.#base + HEADER;
    let chunk = Buffer.allocUnsafe(1 << 16);
    let chunkPos = 0;
    let chunkLen = 0;
    while (pos < end) {
      if (pos + 8 > chunkPos + chunkLen) {
        chunkPos = pos;
        chunkLen = this.#read(chunk, Math.min(chunk.length, end - pos), pos);
        if (chunkLen < 8) throw new CdbFormatError('truncated cdb record');
      }
      const klen = chunk.readUInt32LE(pos - chunkPos);
      const vlen = chunk.readUInt32LE(pos - chunkPos + 4);
      const need = 8 + klen + vlen;
      if (pos + need > end) throw new CdbFormatError('truncated cdb record');
      if (pos + need > chunkPos + chunkLen) {
        if (need > chunk.length) chunk = Buffer.allocUnsafe(need);
        chunkPos = pos;
        chunkLen = this.#read(chunk, Math.min(chunk.length, end - pos), pos);
      }
      const r = pos - chunkPos + 8;
      yield [
        Buffer.from(chunk.subarray(r, r + klen)),
        Buffer.from(chunk.subarray(r + klen, r + klen + vlen)),
      ];
      pos += need;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
