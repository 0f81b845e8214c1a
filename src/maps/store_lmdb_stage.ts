/*
 * store_lmdb_stage - the entries of an lmdb: table being built, in memory
 *
 * A postmap build of an lmdb: table collects its entries here and hands
 * them to LMDB in one write transaction at close(), in key byte order (the
 * order LMDB keeps), so LMDB appends each record to its last page instead
 * of searching its tree: that is most of the speed of a build.
 *
 * Records are packed into one growing buffer, each a 32-bit key length, a
 * 32-bit value length (little-endian), the key's UTF-8 bytes and the
 * value's, so a record is one contiguous run of memory wherever it is
 * read from. An open-addressing index on a 32-bit hash of the key finds
 * duplicates as they are added, so the caller can warn about them in
 * source order as Postfix does. A million-line build keeps no JavaScript
 * object per entry. A replaced or deleted record stays in the buffer,
 * marked dead, and is left out of sorted().
 */

/** Buffer's own UTF-8 writer (what Buffer#write calls), without argument juggling. */
type Utf8Buffer = Buffer & { utf8Write(text: string, offset: number): number };

/** The live records in key order: their offsets in `buf`. */
export interface Sorted {
  readonly buf: Buffer;
  readonly offsets: Float64Array;
}

const HEAD = 8; // key length, value length

export class LmdbStage {
  #buf = Buffer.allocUnsafe(1 << 20) as Utf8Buffer;
  #off = 0;
  #n = 0;
  #live = 0;
  #pos = new Float64Array(1024); // record number -> offset
  #dead = new Uint8Array(1024);
  /** Open addressing: pairs of (record number + 1, key hash); 0 = empty slot. */
  #index = new Int32Array(4096);

  get size(): number {
    return this.#live;
  }

  #room(need: number): void {
    if (this.#off + need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#off + need) size *= 2;
    const bigger = Buffer.allocUnsafe(size) as Utf8Buffer;
    this.#buf.copy(bigger, 0, 0, this.#off);
    this.#buf = bigger;
  }

  /**
   * Write the key where the next record will start (not a record yet) and
   * find it: the index slot of its record, or of the empty slot it would take.
   */
  #probe(key: string): number {
    this.#room(HEAD + key.length * 3);
    const buf = this.#buf;
    const start = this.#off + HEAD;
    const klen = buf.utf8Write(key, start);
    buf.writeUInt32LE(klen, this.#off);
    let h = 5381;
    for (let i = start, end = start + klen; i < end; i++) h = (Math.imul(h, 33) ^ buf[i]!) | 0;
    const index = this.#index;
    const mask = index.length - 2;
    let slot = (h << 1) & mask;
    for (;;) {
      const r = index[slot]! - 1;
      if (r < 0) break;
      if (index[slot + 1] === h) {
        const p = this.#pos[r]!;
        if (
          buf.readUInt32LE(p) === klen &&
          buf.compare(buf, start, start + klen, p + HEAD, p + HEAD + klen) === 0
        )
          break;
      }
      slot = (slot + 2) & mask;
    }
    index[slot + 1] = h; // kept for a new record; the same value for a found one
    return slot;
  }

  /** The live record holding `key`, or -1. */
  find(key: string): number {
    const r = this.#index[this.#probe(key)]! - 1;
    return r >= 0 && this.#dead[r] === 0 ? r : -1;
  }

  /** Add an entry unless its key is there; with `replace`, the new value wins. */
  put(key: string, value: string, replace: boolean): 'stored' | 'duplicate' {
    this.#room(HEAD + (key.length + value.length) * 3); // before the key is staged: growing keeps only records
    const slot = this.#probe(key);
    const old = this.#index[slot]! - 1;
    if (old >= 0 && this.#dead[old] === 0) {
      if (!replace) return 'duplicate';
      this.#dead[old] = 1;
      this.#live--;
    }
    const start = this.#off;
    const buf = this.#buf;
    const klen = buf.readUInt32LE(start);
    const vlen = buf.utf8Write(value, start + HEAD + klen);
    buf.writeUInt32LE(vlen, start + 4);
    this.#off = start + HEAD + klen + vlen;
    let n = this.#n;
    if (n === this.#pos.length) this.#growRecords();
    this.#pos[n] = start;
    this.#dead[n] = 0;
    this.#index[slot] = n + 1; // a dead record's slot is reused: its key is the same
    this.#n = ++n;
    this.#live++;
    if (n * 4 > this.#index.length) this.#rehash();
    return 'stored';
  }

  delete(key: string): boolean {
    const r = this.find(key);
    if (r < 0) return false;
    this.#dead[r] = 1;
    this.#live--;
    return true;
  }

  value(r: number): string {
    const p = this.#pos[r]!;
    const at = p + HEAD + this.#buf.readUInt32LE(p);
    return this.#buf.toString('utf8', at, at + this.#buf.readUInt32LE(p + 4));
  }

  #growRecords(): void {
    const pos = new Float64Array(this.#pos.length * 2);
    pos.set(this.#pos);
    this.#pos = pos;
    const dead = new Uint8Array(pos.length);
    dead.set(this.#dead);
    this.#dead = dead;
  }

  #rehash(): void {
    const old = this.#index;
    const index = new Int32Array(old.length * 2);
    const mask = index.length - 2;
    for (let s = 0; s < old.length; s += 2) {
      if (old[s] === 0) continue;
      const h = old[s + 1]!;
      let slot = (h << 1) & mask;
      while (index[slot] !== 0) slot = (slot + 2) & mask;
      index[slot] = old[s]!;
      index[slot + 1] = h;
    }
    this.#index = index;
  }

  /** The live records in LMDB's key order: bytes compared, then the shorter key first. */
  sorted(): Sorted {
    const offsets = new Float64Array(this.#live);
    let j = 0;
    for (let r = 0; r < this.#n; r++) if (this.#dead[r] === 0) offsets[j++] = this.#pos[r]!;
    if (offsets.length > 1) new KeySorter(this.#buf, offsets).run(0, offsets.length, 0);
    return { buf: this.#buf, offsets };
  }
}

/**
 * Radix sort of record offsets by their key bytes: LSD passes over the
 * first 6 bytes (16-bit digits for big ranges, 8-bit for small ones), then
 * the keys that tie on those bytes sorted the same way on their next 6
 * (ties are rare with real keys). Small ranges are sorted by comparing bytes.
 */
class KeySorter {
  readonly #tmp: Float64Array;
  readonly #digits: Uint16Array;
  readonly #count = new Int32Array(65537);

  constructor(
    readonly buf: Buffer,
    readonly order: Float64Array,
  ) {
    this.#tmp = new Float64Array(order.length);
    this.#digits = new Uint16Array(order.length * 3);
  }

  /** The key of the record at offset a sorts before that at offset b. */
  #less(a: number, b: number): boolean {
    const buf = this.buf;
    const ka = a + HEAD;
    const kb = b + HEAD;
    return buf.compare(buf, kb, kb + buf.readUInt32LE(b), ka, ka + buf.readUInt32LE(a)) < 0;
  }

  #insertion(lo: number, hi: number): void {
    const order = this.order;
    for (let i = lo + 1; i < hi; i++) {
      const x = order[i]!;
      let j = i - 1;
      while (j >= lo && this.#less(x, order[j]!)) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = x;
    }
  }

  /** Sort order[lo, hi), whose keys all share their first `depth` bytes. */
  run(lo: number, hi: number, depth: number): void {
    const len = hi - lo;
    if (len <= 32) {
      this.#insertion(lo, hi);
      return;
    }
    const { buf, order } = this;
    // Digits at depth..depth+5 (0 past the key's end), per position in the range.
    const digits = this.#digits;
    for (let i = 0; i < len; i++) {
      const off = order[lo + i]!;
      const p = off + HEAD + depth;
      const left = buf.readUInt32LE(off) - depth;
      if (left >= 6) {
        digits[i * 3] = (buf[p]! << 8) | buf[p + 1]!;
        digits[i * 3 + 1] = (buf[p + 2]! << 8) | buf[p + 3]!;
        digits[i * 3 + 2] = (buf[p + 4]! << 8) | buf[p + 5]!;
      } else {
        const b = (k: number) => (k < left ? buf[p + k]! : 0);
        digits[i * 3] = (b(0) << 8) | b(1);
        digits[i * 3 + 1] = (b(2) << 8) | b(3);
        digits[i * 3 + 2] = (b(4) << 8) | b(5);
      }
    }
    // Each pass is stable; `at` maps the current order to positions in `digits`.
    let at = new Uint32Array(len);
    let next = new Uint32Array(len);
    for (let i = 0; i < len; i++) at[i] = i;
    const wide = len >= 65536;
    const count = this.#count;
    const values = wide ? 65536 : 256;
    for (let pass = wide ? 2 : 5; pass >= 0; pass--) {
      const word = wide ? pass : pass >> 1;
      const shift = wide || pass & 1 ? 0 : 8;
      const mask = wide ? 0xffff : 0xff;
      count.fill(0, 0, values + 1);
      for (let i = 0; i < len; i++) count[((digits[at[i]! * 3 + word]! >> shift) & mask) + 1]!++;
      for (let v = 1; v <= values; v++) count[v]! += count[v - 1]!;
      for (let i = 0; i < len; i++) {
        const x = at[i]!;
        next[count[(digits[x * 3 + word]! >> shift) & mask]!++] = x;
      }
      [at, next] = [next, at];
    }
    const tmp = this.#tmp;
    for (let i = 0; i < len; i++) tmp[lo + i] = order[lo + at[i]!]!;
    order.set(tmp.subarray(lo, hi), lo);
    // Keys tying on all six bytes are sorted further.
    const same = (i: number, j: number) => {
      const a = at[i]! * 3;
      const b = at[j]! * 3;
      return digits[a] === digits[b] && digits[a + 1] === digits[b + 1] && digits[a + 2] === digits[b + 2];
    };
    // Found first, sorted after: sorting a tie reuses the digit table.
    const ties: number[] = [];
    for (let i = 0; i < len; ) {
      let j = i + 1;
      while (j < len && same(i, j)) j++;
      if (j - i > 1) ties.push(lo + i, lo + j);
      i = j;
    }
    for (let k = 0; k < ties.length; k += 2) this.#tie(ties[k]!, ties[k + 1]!, depth + 6);
  }

  /**
   * order[lo, hi) ties on its first `depth` bytes: keys that end within
   * them come first, shorter first (each is a prefix of the longer ones,
   * padded with zero bytes); the rest are sorted on their next bytes.
   */
  #tie(lo: number, hi: number, depth: number): void {
    const { buf, order } = this;
    const ended: number[] = [];
    const rest: number[] = [];
    for (let i = lo; i < hi; i++) {
      const off = order[i]!;
      (buf.readUInt32LE(off) <= depth ? ended : rest).push(off);
    }
    ended.sort((a, b) => buf.readUInt32LE(a) - buf.readUInt32LE(b));
    let k = lo;
    for (const off of ended) order[k++] = off;
    for (const off of rest) order[k++] = off;
    if (rest.length > 1) this.run(hi - rest.length, hi, depth);
  }
}
