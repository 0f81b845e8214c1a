import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { encodeRecord, REC } from '../../src/global/queue_file.js';
import { readRecords, writeRecord } from '../../src/global/record_stream.js';

async function collect(input: PassThrough) {
  const out: { type: number; data: string }[] = [];
  for await (const r of readRecords(input, 100_000))
    out.push({ type: r.type, data: r.data.toString('latin1') });
  return out;
}

test('records survive any split of the byte stream', async () => {
  const recs: [number, string][] = [
    [REC.FROM, 'sender@example'],
    [REC.CONT, '\u0000\u00ff binary'],
    [REC.CONT, 'y'.repeat(70_000)],
    [REC.END, ''],
  ];
  const bytes = Buffer.concat(recs.map(([t, p]) => encodeRecord(t, Buffer.from(p, 'latin1'))));
  for (const step of [1, 7, 4096, bytes.length]) {
    const s = new PassThrough();
    const got = collect(s);
    for (let i = 0; i < bytes.length; i += step) s.write(bytes.subarray(i, i + step));
    s.end();
    assert.deepEqual(
      (await got).map((r) => [r.type, r.data]),
      recs,
    );
  }
});

test('a stream that ends inside a record, or an oversized one, is an error', async () => {
  const s = new PassThrough();
  const got = collect(s);
  s.end(encodeRecord(REC.FROM, 'abc').subarray(0, 3));
  await assert.rejects(got, /ends inside a record/);
  const big = new PassThrough();
  const bigGot = collect(big);
  big.end(encodeRecord(REC.CONT, 'z'.repeat(200_000)));
  await assert.rejects(bigGot, /too long|record of/);
});

test('writeRecord waits for the reader when the stream is full', async () => {
  const s = new PassThrough({ highWaterMark: 16 });
  let written = 0;
  const writer = (async () => {
    for (let i = 0; i < 100; i++) {
      await writeRecord(s, REC.CONT, 'x'.repeat(100));
      written++;
    }
    s.end();
  })();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(written < 100, 'the writer must block while nobody reads');
  const got = await collect(s);
  await writer;
  assert.equal(got.length, 100);
});
