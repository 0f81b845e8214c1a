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

/** A cdb image in a file, read with positioned reads. */
export class CdbReader {
  readonly #fd: number;
  readonly #base: number;
  readonly #size: number;
  readonly #header: Buffer;
  #scratch = Buffer.allocUnsafe(512);
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
    const slotBuf = Buffer.allocUnsafe(64);
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
