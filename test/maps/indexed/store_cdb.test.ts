/*
 * The cdb engine: what is written is read back, for any keys and values;
 * damaged files are refused, never misread.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildCdb, CdbFormatError, CdbReader, cdbHash } from '../../../src/maps/store_cdb.js';
import { tempDir } from '../../harness/index.js';

test('cdb hash is the published one (h = h*33 ^ c from 5381)', () => {
  assert.equal(cdbHash(Buffer.from('')), 5381);
  assert.equal(cdbHash(Buffer.from('a')), ((5381 * 33) ^ 0x61) >>> 0);
});

test('every record written is found, absent keys are not, order is kept', (t) => {
  const dir = tempDir(t);
  let n = 0;
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' })), {
        selector: (e) => e[0],
        maxLength: 60,
      }),
      fc.string({ unit: 'binary', minLength: 1 }),
      fc.nat(20),
      (entries, probe, base) => {
        const prefix = Buffer.alloc(base, 7);
        const path = join(dir, `t${n++}.cdb`);
        writeFileSync(path, buildCdb(prefix, entries));
        const r = new CdbReader(path, base);
        try {
          for (const [k, v] of entries) assert.equal(r.get(Buffer.from(k))?.toString(), v);
          if (!entries.some(([k]) => k === probe)) assert.equal(r.get(Buffer.from(probe)), undefined);
          assert.deepEqual(
            [...r.entries()].map(([k, v]) => [k.toString(), v.toString()]),
            entries,
          );
        } finally {
          r.close();
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('a large table with long records and colliding slots reads back', (t) => {
  const dir = tempDir(t);
  const entries: [string, string][] = [];
  for (let i = 0; i < 20000; i++) entries.push([`key${i}`, i % 1000 === 0 ? 'v'.repeat(5000) : `value${i}`]);
  const path = join(dir, 'big.cdb');
  writeFileSync(path, buildCdb(Buffer.alloc(0), entries));
  const r = new CdbReader(path);
  for (const [k, v] of entries) assert.equal(r.get(Buffer.from(k))?.toString(), v);
  assert.equal(r.get(Buffer.from('key20000')), undefined);
  r.close();
});

test('truncated or foreign files are refused with CdbFormatError', (t) => {
  const dir = tempDir(t);
  const short = join(dir, 'short.cdb');
  writeFileSync(short, Buffer.alloc(100));
  assert.throws(() => new CdbReader(short), CdbFormatError);
  const whole = buildCdb(Buffer.alloc(0), [['a', 'b']]);
  const cut = join(dir, 'cut.cdb');
  writeFileSync(cut, whole.subarray(0, whole.length - 4));
  assert.throws(() => new CdbReader(cut), CdbFormatError);
});
