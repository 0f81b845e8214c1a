/*
 * Live comparison with Postfix's postsuper -s, which renames a queue file
 * whose name does not match its inode (and long names to short ones when
 * enable_long_queue_ids = no) and moves it to its hashed subdirectory.
 * Files we name and place must stay put; long-named files must land
 * where our short ID and hashing say. Needs root (postsuper runs as the
 * mail owner) and Postfix; skipped otherwise (fails under CI=true).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import {
  createQueueDirs,
  type QueueLayout,
  queueFilePath,
  queueLayout,
} from '../../src/global/queue_dirs.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { parseQueueId, shortQueueId } from '../../src/global/queue_id.js';
import { configDir, postfixCommand, tempDir } from '../harness/index.js';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

async function newFile(layout: QueueLayout): Promise<string> {
  const w = await createQueueFile(layout);
  await w.envelope({
    arrival: { sec: 1, usec: 2 },
    sender: 'a@example.com',
    recipients: [{ address: 'b@example.com' }],
  });
  await w.content(Buffer.from('Subject: t\n\nbody\n'));
  return w.commit();
}

function setup(t: TestContext, mainCf: string): { layout: QueueLayout; conf: string; uid: number } | null {
  const postsuper = postfixCommand(t, 'postsuper');
  if (postsuper === null) return null;
  const id = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  if (process.getuid?.() !== 0 || id.status !== 0) {
    if (process.env.CI === 'true')
      throw new Error('postsuper comparison needs root and a postfix user under CI');
    t.skip('needs root and a postfix user');
    return null;
  }
  const top = tempDir(t, 'postroom-postsuper-');
  chmodSync(top, 0o755);
  const q = join(top, 'spool');
  mkdirSync(q);
  const conf = configDir(t, `queue_directory = ${q}\n${mainCf}`);
  return { layout: queueLayout(loadMainConfig({ configDir: conf })), conf, uid: Number(id.stdout.trim()) };
}

function postsuperS(conf: string, queueDir: string, uid: number): string {
  for (const f of ['', ...files(queueDir)]) chownSync(join(queueDir, f), uid, -1);
  for (const e of readdirSync(queueDir, { withFileTypes: true, recursive: true })) {
    chownSync(join(e.parentPath, e.name), uid, -1);
  }
  const r = spawnSync('/usr/sbin/postsuper', ['-c', conf, '-s'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('postsuper -s leaves our short-named, hashed files alone', async (t) => {
  const s = setup(t, 'hash_queue_names = deferred, incoming\nhash_queue_depth = 2\n');
  if (s === null) return;
  const { layout, conf, uid } = s;
  await createQueueDirs(layout);
  const want: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = await newFile(layout);
    const dest = queueFilePath(layout, 'deferred', id);
    mkdirSync(join(dest, '..'), { recursive: true });
    renameSync(queueFilePath(layout, 'incoming', id), dest);
    want.push(relative(layout.directory, dest));
  }
  want.push(relative(layout.directory, queueFilePath(layout, 'incoming', await newFile(layout))));
  const stderr = postsuperS(conf, layout.directory, uid);
  assert.equal(stderr, '');
  assert.deepEqual(files(layout.directory), want.sort());
});

test('postsuper -s turns our long names into the short name and hashed place we compute', async (t) => {
  const s = setup(t, 'hash_queue_depth = 2\n');
  if (s === null) return;
  const { layout, conf, uid } = s;
  await createQueueDirs(layout);
  const longLayout = { ...layout, longIds: true };
  const want: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = await newFile(longLayout);
    const p = parseQueueId(id);
    assert.equal(p?.form, 'long');
    // Put it flat in deferred: postsuper must also rehash it.
    const flat = join(layout.directory, 'deferred', id);
    renameSync(queueFilePath(longLayout, 'incoming', id), flat);
    const short = shortQueueId({ sec: 0, usec: p?.usec ?? -1 }, BigInt(statSync(flat).ino));
    want.push(relative(layout.directory, queueFilePath(layout, 'deferred', short)));
  }
  const stderr = postsuperS(conf, layout.directory, uid);
  assert.match(stderr, /Renamed to match inode number: 5 messages/);
  assert.deepEqual(files(layout.directory), want.sort());
});
