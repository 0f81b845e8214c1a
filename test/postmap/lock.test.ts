/*
 * Writers of one table are serialised by its lock (src/maps/table_lock.ts),
 * as Postfix's are: concurrent postmap -i runs all land, a lock left by a
 * crashed writer is broken, a lock held too long gives up with a clear error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockTable, TableLockError } from '../../src/maps/table_lock.js';
import { configDir, ours, ROOT, type Run } from '../harness/index.js';

function postmapAsync(args: string[], input: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(ROOT, 'bin', 'postmap'),
      args,
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        const status = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        if (err && status === null) reject(err);
        else resolve({ stdout, stderr, status });
      },
    );
    child.stdin?.end(input);
  });
}

/** Above Linux's largest pid_max (2^22): never a running process. */
const DEAD_PID = 4_194_321;

for (const type of ['hash', 'btree']) {
  test(`two concurrent postmap -i on one ${type} table: all 1000 keys land`, async (t) => {
    const dir = configDir(t);
    const table = `${type}:${join(dir, 'shared')}`;
    const batch = (p: string) => Array.from({ length: 500 }, (_, i) => `${p}${i} v${i}\n`).join('');
    const runs = await Promise.all([
      postmapAsync(['-c', dir, '-i', table], batch('a')),
      postmapAsync(['-c', dir, '-i', table], batch('b')),
    ]);
    for (const r of runs) assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
    const listed = ours('postmap', ['-c', dir, '-s', table]).stdout.trim().split('\n');
    assert.equal(listed.length, 1000);
    assert.equal(new Set(listed).size, 1000);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('lock') || f.endsWith('.tmp')),
      [],
      'no lock or temporary file left behind',
    );
  });
}

test('a lock left by a writer that is gone is broken', (t) => {
  const dir = configDir(t);
  const file = join(dir, 'm');
  writeFileSync(`${file}.db.lock`, `${DEAD_PID}\n`);
  const r = ours('postmap', ['-c', dir, '-i', `hash:${file}`], { input: 'k v\n' });
  assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
  assert.equal(ours('postmap', ['-c', dir, '-q', 'k', `hash:${file}`]).stdout, 'v\n');
  assert.equal(existsSync(`${file}.db.lock`), false);
});

test('a lock held by a live process: the wait is bounded and the error names the holder', async (t) => {
  const dir = configDir(t);
  const path = join(dir, 't.db');
  const release = await lockTable(path);
  t.after(release);
  await assert.rejects(
    lockTable(path, { waitMs: 200, pollMs: 20 }),
    (e: unknown) =>
      e instanceof TableLockError &&
      e.message === `lock ${path}.lock: table is locked by process ${process.pid}; gave up after 0 seconds`,
  );
  // Released, the next writer gets it at once.
  release();
  const again = await lockTable(path, { waitMs: 200, pollMs: 20 });
  again();
  assert.equal(existsSync(`${path}.lock`), false);
});

test('a waiting writer goes on as soon as the holder releases', async (t) => {
  const dir = configDir(t);
  const path = join(dir, 't.db');
  const first = await lockTable(path);
  let second = false;
  const waiting = lockTable(path, { waitMs: 5000, pollMs: 10 }).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(second, false, 'the second writer waits');
  first();
  (await waiting)();
  assert.equal(second, true);
});
