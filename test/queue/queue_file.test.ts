/*
 * The queue file: write then read back (random envelopes and contents),
 * torn files at every length, marking recipients done in place, many
 * commits at once, damaged files.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import { createQueueDirs, type QueueLayout, queueFilePath } from '../../src/global/queue_dirs.js';
import { DSN_NOTIFY, DSN_RET, type QueueEnvelope, REC } from '../../src/global/queue_file.js';
import { openQueueFile, type QueueFileReader } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { isQueueId, parseQueueId } from '../../src/global/queue_id.js';
import { tempDir } from '../harness/index.js';

async function queue(t: TestContext, extra: Partial<QueueLayout> = {}): Promise<QueueLayout> {
  const layout: QueueLayout = {
    directory: join(tempDir(t, 'postroom-queue-'), 'spool'),
    hashed: new Set(['deferred', 'defer']),
    depth: 1,
    longIds: false,
    ...extra,
  };
  await createQueueDirs(layout);
  return layout;
}

const ENV: QueueEnvelope = {
  arrival: { sec: 1_700_000_000, usec: 123_456 },
  sender: 'alice@example.com',
  recipients: [
    {
      address: 'bob@example.org',
      orig: 'Bob@Example.org',
      dsnOrcpt: 'rfc822;Bob@Example.org',
      dsnNotify: DSN_NOTIFY.FAILURE | DSN_NOTIFY.DELAY,
    },
    { address: 'carol@example.net' },
  ],
  attributes: {
    client_name: 'mx.example.com',
    client_address: '192.0.2.1',
    helo_name: 'mx',
    protocol_name: 'ESMTP',
  },
  dsnEnvid: 'QQ314159',
  dsnRet: DSN_RET.HDRS,
};

async function write(
  layout: QueueLayout,
  env: QueueEnvelope,
  chunks: readonly Uint8Array[],
  opts: { pieceSize?: number; extra?: QueueEnvelope['recipients'] } = {},
): Promise<string> {
  const w = await createQueueFile(layout, opts.pieceSize ? { contentRecordSize: opts.pieceSize } : {});
  await w.envelope(env);
  for (const c of chunks) await w.content(c);
  for (const r of opts.extra ?? []) await w.recipient(r);
  return w.commit();
}

async function readContent(f: QueueFileReader): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of f.contentBytes()) parts.push(b);
  return Buffer.concat(parts);
}

async function mustOpen(path: string, write = false): Promise<QueueFileReader> {
  const r = await openQueueFile(path, { write });
  if (!r.ok) assert.fail(r.error.message);
  return r.file;
}

test('round trip: envelope, attributes, DSN, content, extracted recipients', async (t) => {
  const layout = await queue(t);
  const body = Buffer.from('Subject: hi\n\nline one\n\nlast line without LF');
  const id = await write(layout, ENV, [body], { extra: [{ address: 'dave@example.com', orig: 'dave' }] });
  assert.ok(isQueueId(id));
  const path = queueFilePath(layout, 'incoming', id);
  // Only the committed file is left in incoming: the temporary name is gone.
  assert.deepEqual(readdirSync(join(layout.directory, 'incoming')), [id]);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(parseQueueId(id)?.inode, BigInt(statSync(path).ino));
  const f = await mustOpen(path);
  t.after(() => f.close());
  assert.deepEqual(f.envelope.arrival, ENV.arrival);
  assert.equal(f.envelope.sender, ENV.sender);
  assert.deepEqual({ ...f.envelope.attributes }, ENV.attributes);
  assert.equal(f.envelope.dsnEnvid, 'QQ314159');
  assert.equal(f.envelope.dsnRet, DSN_RET.HDRS);
  assert.deepEqual(
    f.recipients.map(({ offset: _, ...r }) => r),
    [
      { ...ENV.recipients[0], done: false },
      { ...ENV.recipients[1], done: false },
      { address: 'dave@example.com', orig: 'dave', done: false },
    ],
  );
  assert.equal(f.contentLength, body.length);
  assert.deepEqual(await readContent(f), body);
  const lines: string[] = [];
  for await (const r of f.contentRecords()) lines.push(`${r.partial ? 'L' : 'N'}:${r.line}`);
  assert.deepEqual(lines, ['N:Subject: hi', 'N:', 'N:line one', 'N:', 'L:last line without LF']);
});

const arbEnvelope: fc.Arbitrary<QueueEnvelope> = fc.record(
  {
    arrival: fc.record({
      sec: fc.integer({ min: 0, max: 2 ** 40 }),
      usec: fc.integer({ min: 0, max: 999_999 }),
    }),
    warnTime: fc.integer({ min: 0, max: 2 ** 40 }),
    sender: fc.string({ unit: 'grapheme', maxLength: 40 }),
    recipients: fc.array(
      fc.record(
        {
          address: fc.string({ unit: 'grapheme', maxLength: 30 }),
          orig: fc.string({ maxLength: 30 }),
          dsnOrcpt: fc.string({ maxLength: 30 }),
          dsnNotify: fc.integer({ min: 1, max: 15 }),
        },
        { requiredKeys: ['address'], noNullPrototype: true },
      ),
      { maxLength: 6 },
    ),
    attributes: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !k.includes('=') && k !== '__proto__'),
      fc.string({ maxLength: 40 }),
      { maxKeys: 5, noNullPrototype: true },
    ),
    dsnEnvid: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    dsnRet: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
  },
  { noNullPrototype: true },
);

// Content built from pieces likely to hit the edges: LFs, CRs, NULs, 8-bit bytes, long runs.
const arbContent = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 50 }),
      fc.constant(Uint8Array.of(0x0a)),
      fc.constant(Uint8Array.of(0x0d, 0x0a)),
      fc.integer({ min: 1, max: 300 }).map((n) => new Uint8Array(n).fill(0x78)),
    ),
    { maxLength: 20 },
  )
  .map((parts) => Buffer.concat(parts));

test('round trip: random envelopes and contents, chunked anyhow, small record pieces', async (t) => {
  const layout = await queue(t, { longIds: true });
  await fc.assert(
    fc.asyncProperty(
      arbEnvelope,
      arbContent,
      fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 5 }),
      fc.integer({ min: 1, max: 64 }),
      async (env, content, cuts, pieceSize) => {
        const sorted = [...cuts].map((c) => Math.min(c, content.length)).sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of [...sorted, content.length]) {
          chunks.push(content.subarray(prev, c));
          prev = c;
        }
        const id = await write(layout, env, chunks, { pieceSize });
        const path = queueFilePath(layout, 'incoming', id);
        const f = await mustOpen(path);
        try {
          assert.deepEqual(f.envelope.arrival, { ...env.arrival });
          assert.equal(f.envelope.sender, env.sender);
          assert.equal(f.warnTime, env.warnTime);
          assert.deepEqual({ ...f.envelope.attributes }, { ...env.attributes });
          assert.equal(f.envelope.dsnEnvid, env.dsnEnvid);
          assert.equal(f.envelope.dsnRet, env.dsnRet);
          assert.deepEqual(
            f.recipients.map(({ offset: _, done: __, ...r }) => r),
            env.recipients,
          );
          assert.equal(f.contentLength, content.length);
          assert.deepEqual(await readContent(f), content);
          for await (const r of f.contentRecords()) assert.ok(r.line.length <= pieceSize);
        } finally {
          await f.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('a large message streams in and out (1 MiB lines, 8 MiB total)', async (t) => {
  const layout = await queue(t);
  const line = Buffer.alloc(1 << 20, 0x61);
  line[line.length - 1] = 0x0a;
  const w = await createQueueFile(layout);
  await w.envelope(ENV);
  for (let i = 0; i < 8; i++) await w.content(line);
  const id = await w.commit();
  const f = await mustOpen(queueFilePath(layout, 'incoming', id));
  t.after(() => f.close());
  let total = 0;
  let biggest = 0;
  for await (const b of f.contentBytes()) {
    total += b.length;
    biggest = Math.max(biggest, b.length);
  }
  assert.equal(total, 8 << 20);
  assert.ok(
    biggest <= 64 * 1024,
    `pieces stay bounded (memory does not grow with the message), got ${biggest}`,
  );
});

test('records longer than a read and files larger than the first read come back exactly', async (t) => {
  const layout = await queue(t);
  // Pieces of 200 KiB (each longer than a read) and envelopes with many
  // recipients, so sections and records straddle every buffer boundary.
  const line = Buffer.alloc(300 * 1024, 0x62);
  line[line.length - 1] = 0x0a;
  const extra = Array.from({ length: 3000 }, (_, i) => ({ address: `late${i}@example.com` }));
  for (const [chunks, pieceSize] of [
    [[line, line, Buffer.from('tail without LF')], 200 * 1024],
    [[Buffer.alloc(127 * 1024, 0x0a)], 1],
    [[Buffer.from('x\n')], undefined],
  ] as const) {
    const id = await write(layout, ENV, chunks, { extra, ...(pieceSize ? { pieceSize } : {}) });
    const f = await mustOpen(queueFilePath(layout, 'incoming', id), true);
    assert.equal(f.recipients.length, 2 + extra.length);
    assert.deepEqual(await readContent(f), Buffer.concat(chunks));
    const joined: Buffer[] = [];
    for await (const { line: l, partial } of f.contentRecords())
      joined.push(l, Buffer.from(partial ? '' : '\n'));
    assert.deepEqual(Buffer.concat(joined), Buffer.concat(chunks));
    const last = f.recipients.at(-1) as NonNullable<(typeof f.recipients)[0]>;
    await f.markDone(last);
    await f.close();
    await f.close(); // twice: nothing happens
    const g = await mustOpen(queueFilePath(layout, 'incoming', id));
    assert.deepEqual(
      g.pending.map((r) => r.address),
      ['bob@example.org', 'carol@example.net', ...extra.slice(0, -1).map((r) => r.address)],
    );
    await g.close();
    await assert.rejects(async () => {
      for await (const _ of g.contentBytes());
    }, /queue file closed/);
  }
});

test('a torn file is "incomplete" at every length, never a partial message', async (t) => {
  const layout = await queue(t);
  const id = await write(layout, ENV, [Buffer.from('Subject: x\n\nbody\nmore body\n')], {
    extra: [{ address: 'late@example.com' }],
  });
  const path = queueFilePath(layout, 'incoming', id);
  const whole = readFileSync(path);
  const torn = join(layout.directory, 'incoming', 'torn');
  for (let len = 0; len < whole.length; len++) {
    writeFileSync(torn, whole.subarray(0, len));
    const r = await openQueueFile(torn);
    assert.equal(r.ok, false, `length ${len} opened`);
    if (!r.ok) assert.equal(r.error.kind, 'incomplete', `length ${len}: ${r.error.message}`);
  }
  writeFileSync(torn, whole);
  const f = await mustOpen(torn);
  await f.close();
  // Trailing bytes are damage, not tearing.
  writeFileSync(torn, Buffer.concat([whole, Buffer.from('x')]));
  const r = await openQueueFile(torn);
  assert.ok(!r.ok && r.error.kind === 'corrupt');
});

test('a file whose writer died before commit is incomplete; abort removes it', async (t) => {
  const layout = await queue(t);
  const w = await createQueueFile(layout);
  await w.envelope(ENV);
  await w.content(Buffer.from('hello\n'));
  // What a crash leaves: the temporary file as written so far.
  const r = await openQueueFile(w.tempPath);
  assert.ok(!r.ok && r.error.kind === 'incomplete', r.ok ? 'opened' : r.error.message);
  assert.ok(!isQueueId(w.tempPath.split('/').at(-1) as string));
  await w.abort();
  assert.deepEqual(readdirSync(join(layout.directory, 'incoming')), []);
  const gone = await openQueueFile(w.tempPath);
  assert.ok(!gone.ok && gone.error.kind === 'missing');
});

test('damaged files are "corrupt", never a crash', async (t) => {
  const layout = await queue(t);
  const id = await write(layout, ENV, [Buffer.from('Subject: x\n\nbody\n')]);
  const path = queueFilePath(layout, 'incoming', id);
  const whole = readFileSync(path);
  const bad = join(layout.directory, 'incoming', 'bad');
  // Every single-byte change is either caught or still a well-formed file.
  for (let i = 0; i < whole.length; i++) {
    for (const v of [0x00, 0x52, 0x44, 0xff]) {
      if (whole[i] === v) continue;
      const copy = Buffer.from(whole);
      copy[i] = v;
      writeFileSync(bad, copy);
      const r = await openQueueFile(bad);
      if (!r.ok) {
        assert.ok(r.error.kind === 'corrupt' || r.error.kind === 'incomplete', r.error.message);
        continue;
      }
      try {
        await readContent(r.file);
      } catch (e) {
        assert.equal((e as Error).name, 'QueueFileError');
      } finally {
        await r.file.close();
      }
    }
  }
  writeFileSync(bad, 'not a queue file at all\n');
  const r = await openQueueFile(bad);
  assert.ok(!r.ok && r.error.kind === 'corrupt');
});

test('marking recipients done changes one byte in place and survives re-reading', async (t) => {
  const layout = await queue(t);
  const id = await write(layout, ENV, [Buffer.from('body\n')], { extra: [{ address: 'x@example.com' }] });
  const path = queueFilePath(layout, 'incoming', id);
  const before = readFileSync(path);
  const ino = statSync(path).ino;
  const f = await mustOpen(path, true);
  await f.markDone(f.recipients[0] as NonNullable<(typeof f.recipients)[0]>);
  await f.markDone(f.recipients[2] as NonNullable<(typeof f.recipients)[0]>);
  await f.markDone(f.recipients[2] as NonNullable<(typeof f.recipients)[0]>); // again: no change
  assert.deepEqual(
    f.pending.map((r) => r.address),
    ['carol@example.net'],
  );
  await f.close();
  const after = readFileSync(path);
  assert.equal(statSync(path).ino, ino, 'same file, not rewritten');
  const diff = [...before.keys()].filter((i) => before[i] !== after[i]);
  assert.equal(diff.length, 2);
  for (const i of diff) assert.deepEqual([before[i], after[i]], [REC.RCPT, REC.DONE]);
  const g = await mustOpen(path);
  t.after(() => g.close());
  assert.deepEqual(
    g.recipients.map((r) => [r.address, r.done]),
    [
      ['bob@example.org', true],
      ['carol@example.net', false],
      ['x@example.com', true],
    ],
  );
  assert.deepEqual(await readContent(g), Buffer.from('body\n'));
});

test('many commits at once: all distinct IDs, all complete', async (t) => {
  const layout = await queue(t, { hashed: new Set(['incoming']), depth: 2 });
  const n = 200;
  const ids = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      write(layout, { ...ENV, sender: `s${i}@example.com` }, [
        Buffer.from(`Subject: ${i}\n\n${'x'.repeat(i * 50)}\n`),
      ]),
    ),
  );
  assert.equal(new Set(ids).size, n);
  for (const [i, id] of ids.entries()) {
    const path = queueFilePath(layout, 'incoming', id);
    assert.match(path, /\/incoming\/[0-9A-F]\/[0-9A-F]\/[0-9A-F]+$/);
    const f = await mustOpen(path);
    assert.equal(f.envelope.sender, `s${i}@example.com`);
    assert.equal((await readContent(f)).toString(), `Subject: ${i}\n\n${'x'.repeat(i * 50)}\n`);
    await f.close();
  }
});

test('a name clash takes a fresh queue ID instead of overwriting', async (t) => {
  const layout = await queue(t);
  const time = { sec: 1, usec: 42 };
  const w = await createQueueFile(layout, { time });
  await w.envelope(ENV);
  // Someone else already holds this name.
  writeFileSync(queueFilePath(layout, 'incoming', w.queueId), 'other');
  const first = w.queueId;
  const id = await w.commit();
  assert.notEqual(id, first);
  assert.equal(readFileSync(queueFilePath(layout, 'incoming', first), 'utf8'), 'other');
  const f = await mustOpen(queueFilePath(layout, 'incoming', id));
  await f.close();
});

test('queue directories get their modes whatever the umask', async (t) => {
  const layout = await queue(t);
  assert.equal(statSync(join(layout.directory, 'maildrop')).mode & 0o777, 0o730);
  for (const q of [
    'incoming',
    'active',
    'deferred',
    'hold',
    'corrupt',
    'bounce',
    'defer',
    'trace',
    'flush',
    'saved',
  ]) {
    assert.equal(statSync(join(layout.directory, q)).mode & 0o777, 0o700, q);
  }
  // A writer into a hashed queue makes the subdirectory on demand.
  const hashed = { ...layout, hashed: new Set(['incoming']), depth: 2 };
  const id = await write(hashed, ENV, []);
  const f = await mustOpen(queueFilePath(hashed, 'incoming', id));
  assert.deepEqual(await readContent(f), Buffer.alloc(0));
  assert.equal(f.contentLength, 0);
  await f.close();
  truncateSync(queueFilePath(hashed, 'incoming', id), 10);
  const r = await openQueueFile(queueFilePath(hashed, 'incoming', id));
  assert.ok(!r.ok && r.error.kind === 'incomplete');
});

test('random bytes after a plausible size record: an error kind or a message, never a crash', async (t) => {
  const layout = await queue(t);
  const id = await write(layout, ENV, [Buffer.from('a\n')]);
  const whole = readFileSync(queueFilePath(layout, 'incoming', id));
  const head = whole.subarray(0, 2 + 79);
  const path = join(layout.directory, 'incoming', 'fuzz');
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (tail, keepHead) => {
      writeFileSync(path, keepHead ? Buffer.concat([head, tail]) : tail);
      const r = await openQueueFile(path);
      if (!r.ok) {
        assert.ok(['incomplete', 'corrupt'].includes(r.error.kind));
        return;
      }
      try {
        await readContent(r.file);
      } catch (e) {
        assert.equal((e as Error).name, 'QueueFileError');
      } finally {
        await r.file.close();
      }
    }),
    { numRuns: 300 },
  );
});

test('postdrop-style files go to maildrop, named by queue ID', async (t) => {
  const layout = await queue(t);
  const w = await createQueueFile(layout, { queue: 'maildrop' });
  await w.envelope(ENV);
  const id = await w.commit();
  assert.deepEqual(readdirSync(join(layout.directory, 'maildrop')), [id]);
  assert.deepEqual(readdirSync(join(layout.directory, 'incoming')), []);
  const f = await mustOpen(queueFilePath(layout, 'maildrop', id));
  assert.equal(f.envelope.sender, ENV.sender);
  await f.close();
});

test('a commit that fails leaves no file behind; misuse is a clear error', async (t) => {
  const layout = await queue(t);
  const w = await createQueueFile(layout);
  await assert.rejects(w.content(Buffer.from('x\n')), /: content: the envelope must come first$/);
  await assert.rejects(w.commit(), /: commit: the envelope must come first$/);
  assert.deepEqual(readdirSync(join(layout.directory, 'incoming')), []);
  await assert.rejects(w.commit(), /: commit: the file was already aborted$/);
  const v = await createQueueFile(layout);
  await v.envelope(ENV);
  await v.recipient({ address: 'late@example.com' });
  await assert.rejects(
    v.content(Buffer.from('x\n')),
    /: content: not allowed after recipients added after the content$/,
  );
  await assert.rejects(v.envelope(ENV), /: envelope: not allowed after/);
  await v.abort();
});

test('the delay warning time is set and cleared in place', async (t) => {
  const layout = await queue(t);
  const w = await createQueueFile(layout);
  await w.envelope({ ...ENV, warnTime: 1_700_014_400 });
  const id = await w.commit();
  const path = queueFilePath(layout, 'incoming', id);
  const before = readFileSync(path);
  const f = await mustOpen(path, true);
  assert.equal(f.warnTime, 1_700_014_400);
  assert.equal(f.envelope.warnTime, 1_700_014_400);
  await f.setWarnTime(0);
  await f.close();
  const after = readFileSync(path);
  assert.equal(after.length, before.length);
  const changed = [...before.keys()].filter((i) => before[i] !== after[i]);
  assert.ok(changed.length > 0 && (changed.at(-1) as number) - (changed[0] as number) < 15);
  const g = await mustOpen(path, true);
  assert.equal(g.warnTime, 0);
  await g.setWarnTime(999_999_999_999_999);
  await assert.rejects(g.setWarnTime(-1), RangeError);
  await g.close();
  const h = await mustOpen(path);
  t.after(() => h.close());
  assert.equal(h.warnTime, 999_999_999_999_999);
  assert.deepEqual(await readContent(h), Buffer.alloc(0));
  assert.equal(h.recipients.length, 2);
});
