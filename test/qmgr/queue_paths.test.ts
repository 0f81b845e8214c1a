/*
 * The queue paths qmgr builds on its fast paths are the ones join() gives
 * (queueFilePath skips join for plain names), listQueue finds what
 * scanQueue finds, and moves/removals without directory sync still move
 * and remove.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createQueueDirs,
  listQueue,
  moveQueueFile,
  QUEUE_NAMES,
  type QueueLayout,
  queueFileDir,
  queueFilePath,
  removeQueueFile,
  scanQueue,
} from '../../src/global/queue_dirs.js';
import { tempDir } from '../harness/index.js';

test('queueFilePath equals join() of its directory and name, for every queue, depth and name', () => {
  const names = ['C3CD21F3E90', '3Pt2mN2VXxznjll', 'A', 'abc', '..', '.', 'a/b', 't123.4.x', ''];
  const dirs = ['/var/spool/postfix', '/var/spool/postfix/', '/', '/a/./b//c/../d', 'relative/q', ''];
  let n = 0;
  for (const directory of dirs)
    for (const depth of [0, 1, 2, 3])
      for (const queue of [...QUEUE_NAMES, 'other'])
        for (const name of names) {
          const layout: QueueLayout = {
            directory,
            hashed: new Set(['deferred', 'defer', 'incoming']),
            depth,
            longIds: false,
          };
          assert.equal(
            queueFilePath(layout, queue, name),
            join(queueFileDir(layout, queue, name), name),
            JSON.stringify({ directory, depth, queue, name }),
          );
          n++;
        }
  assert.equal(n, dirs.length * 4 * (QUEUE_NAMES.length + 1) * names.length);
});

test('listQueue lists what scanQueue does, hashed levels included, temporary names skipped', async (t) => {
  const dir = tempDir(t);
  const layout: QueueLayout = { directory: dir, hashed: new Set(['deferred']), depth: 2, longIds: false };
  await createQueueDirs(layout, ['deferred', 'incoming']);
  const ids = ['C3CD21F3E90', 'A1B2C3D4E5F', '3Pt2mN2VXxznjll'];
  for (const id of ids) {
    mkdirSync(queueFileDir(layout, 'deferred', id), { recursive: true });
    writeFileSync(queueFilePath(layout, 'deferred', id), 'x');
  }
  writeFileSync(join(dir, 'deferred', 't123.4.x'), 'temporary');
  const scanned: { id: string; path: string }[] = [];
  for await (const f of scanQueue(layout, 'deferred')) scanned.push(f);
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  assert.deepEqual(listQueue(layout, 'deferred').sort(byId), scanned.sort(byId));
  assert.deepEqual(
    listQueue(layout, 'deferred')
      .map((f) => f.id)
      .sort(),
    [...ids].sort(),
  );
  assert.deepEqual(listQueue(layout, 'hold'), []);
});

test('moves and removals without directory sync still move and remove', async (t) => {
  const dir = tempDir(t);
  const layout: QueueLayout = { directory: dir, hashed: new Set(['deferred']), depth: 1, longIds: false };
  await createQueueDirs(layout, ['incoming', 'active', 'deferred']);
  const id = 'C3CD21F3E90';
  writeFileSync(queueFilePath(layout, 'incoming', id), 'x');
  await moveQueueFile(layout, 'incoming', 'active', id, { sync: false });
  assert.ok(existsSync(queueFilePath(layout, 'active', id)));
  assert.ok(!existsSync(queueFilePath(layout, 'incoming', id)));
  // The hashed subdirectory does not exist yet: the move makes it.
  await moveQueueFile(layout, 'active', 'deferred', id, { sync: false });
  assert.ok(existsSync(queueFilePath(layout, 'deferred', id)));
  await assert.rejects(moveQueueFile(layout, 'active', 'deferred', id, { sync: false }), { code: 'ENOENT' });
  assert.equal(await removeQueueFile(layout, 'deferred', id, { sync: false }), true);
  assert.equal(await removeQueueFile(layout, 'deferred', id, { sync: false }), false);
});
