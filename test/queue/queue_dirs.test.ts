/*
 * Moving queue files between queues, listing a queue, and the shared
 * directory syncs that commits and moves wait for.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  createQueueDirs,
  moveQueueFile,
  type QueueLayout,
  queueFilePath,
  removeQueueFile,
  scanQueue,
  syncQueueDir,
} from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { tempDir } from '../harness/index.js';

async function queue(t: TestContext): Promise<QueueLayout> {
  const layout: QueueLayout = {
    directory: join(tempDir(t, 'postroom-queue-'), 'spool'),
    hashed: new Set(['deferred', 'defer']),
    depth: 2,
    longIds: false,
  };
  await createQueueDirs(layout);
  return layout;
}

async function newFile(layout: QueueLayout): Promise<string> {
  const w = await createQueueFile(layout);
  await w.envelope({ arrival: { sec: 1, usec: 2 }, sender: '', recipients: [{ address: 'u@example.com' }] });
  await w.content(Buffer.from('x\n'));
  return w.commit();
}

async function ids(layout: QueueLayout, q: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of scanQueue(layout, q)) {
    assert.equal(f.path, queueFilePath(layout, q, f.id));
    out.push(f.id);
  }
  return out.sort();
}

test('moving through incoming, active, deferred (hashed) and corrupt', async (t) => {
  const layout = await queue(t);
  const a = await newFile(layout);
  const b = await newFile(layout);
  assert.deepEqual(await ids(layout, 'incoming'), [a, b].sort());
  await moveQueueFile(layout, 'incoming', 'active', a);
  const dst = await moveQueueFile(layout, 'active', 'deferred', a);
  assert.equal(dst, queueFilePath(layout, 'deferred', a));
  assert.match(dst, /\/deferred\/[0-9A-F]\/[0-9A-F]\/[0-9A-F]+$/);
  assert.deepEqual(await ids(layout, 'deferred'), [a]);
  assert.deepEqual(await ids(layout, 'incoming'), [b]);
  assert.deepEqual(await ids(layout, 'active'), []);
  const r = await openQueueFile(dst);
  assert.ok(r.ok);
  await r.file.close();
  await moveQueueFile(layout, 'deferred', 'corrupt', a);
  assert.ok(existsSync(join(layout.directory, 'corrupt', a)));
  assert.equal(await removeQueueFile(layout, 'incoming', b), true);
  assert.equal(await removeQueueFile(layout, 'incoming', b), false);
  assert.deepEqual(await ids(layout, 'incoming'), []);
  // A file that is not there: the caller hears ENOENT.
  await assert.rejects(moveQueueFile(layout, 'deferred', 'active', a), { code: 'ENOENT' });
});

test('scanning skips temporary files, foreign names and stray directories', async (t) => {
  const layout = await queue(t);
  const a = await newFile(layout);
  const w = await createQueueFile(layout); // in flight: a temporary name
  writeFileSync(join(layout.directory, 'incoming', 'README'), '');
  mkdirSync(join(layout.directory, 'incoming', 'A'));
  writeFileSync(join(layout.directory, 'incoming', 'A', 'ABCDEF1'), '');
  assert.deepEqual(await ids(layout, 'incoming'), [a]);
  await w.abort();
  assert.deepEqual(await ids(layout, 'hold'), []);
  assert.deepEqual(await ids({ ...layout, directory: join(layout.directory, 'nowhere') }, 'hold'), []);
});

test('directory syncs requested while one runs share the next one', async (t) => {
  const layout = await queue(t);
  const dir = join(layout.directory, 'incoming');
  const first = syncQueueDir(dir);
  const second = syncQueueDir(dir);
  const third = syncQueueDir(dir);
  assert.notEqual(first, second);
  assert.equal(second, third);
  await Promise.all([first, second, third]);
  // All settled: a new request starts a fresh sync.
  const again = syncQueueDir(dir);
  assert.notEqual(again, second);
  await again;
});

test('markDone on a file opened read-only is refused with a clear error', async (t) => {
  const layout = await queue(t);
  const id = await newFile(layout);
  const r = await openQueueFile(queueFilePath(layout, 'incoming', id));
  assert.ok(r.ok);
  t.after(() => r.file.close());
  await assert.rejects(
    r.file.markDone(r.file.recipients[0] as NonNullable<(typeof r.file.recipients)[0]>),
    /read-only/,
  );
});
