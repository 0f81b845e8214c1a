/*
 * postsuper as the superintendent runs it: a scenario over a queue with a
 * message in every queue, compared step by step (messages, summaries,
 * where each file ends up, the mail log) with what Postfix 3.7 did on the
 * same logical queue (test/golden/admin/postsuper-*.out); then the
 * structure repair and temporary-file purge, which are Postroom's own.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { ours, ROOT } from '../harness/index.js';
import { golden, logLines, message, normalize, type Site, sections, site } from './fixture.js';

const QUEUES = ['incoming', 'active', 'deferred', 'hold', 'maildrop', 'bounce', 'defer', 'trace'];

/** "queue/ROLE" for every file, hashed subdirectories left out, sorted. */
function layoutOf(s: Site, roles: Record<string, string>): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else out.push(relative(s.queue, join(dir, e.name)).replace(/^([a-z]+)\/(?:.\/)*/, '$1/'));
    }
  };
  for (const q of QUEUES) walk(join(s.queue, q));
  return out
    .map((l) => normalize(l, roles))
    .sort()
    .map((l) => `${l}\n`)
    .join('');
}

test('usage errors, bad directory and queue ID, empty queue: as Postfix', async (t) => {
  const s = await site(t);
  const ps = (...args: string[]) =>
    normalize(sections(ours('postsuper', ['-c', s.conf, ...args])), {}, s.dir);
  assert.equal(ps('-Z'), golden('postsuper-usage.out'));
  assert.equal(ps('-d'), golden('postsuper-noarg.out'));
  assert.equal(ps('-d', 'ALL', 'foo'), golden('postsuper-baddir.out'));
  assert.equal(ps('-d', 'ALL', '-h', 'ALL', '-H', 'ALL', '-r', 'ALL'), golden('postsuper-empty.out'));
  assert.equal(ps('-d', 'bad/id'), golden('postsuper-badid.out'));
});

test('hold, release, requeue and delete move and remove files as Postfix does', async (t) => {
  const s = await site(t);
  const roles: Record<string, string> = {};
  for (const [role, queue] of [
    ['DROP', 'maildrop'],
    ['IN', 'incoming'],
    ['ACT', 'active'],
    ['DEF', 'deferred'],
    ['HOLD', 'hold'],
  ] as const) {
    roles[role] = await message(s.layout, { queue, body: `Subject: ${role}\n\nhello\n` });
  }
  const def = roles.DEF as string;
  for (const log of ['bounce', 'defer', 'trace']) {
    const p = queueFilePath(s.layout, log, def);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, 'x\n');
  }
  let out = '';
  const step = (desc: string, input: string, ...args: string[]) => {
    const r = ours('postsuper', ['-c', s.conf, ...args], { input });
    out += `== ${desc}\n${normalize(r.stderr + r.stdout, roles)}-- files\n${layoutOf(s, roles)}`;
  };
  step('-h DEF -h DROP -h bogus/id', '', '-h', def, '-h', roles.DROP as string, '-h', 'bogus/id');
  step('-H ALL', '', '-H', 'ALL');
  step('-r ACT -d DEF', '', '-r', roles.ACT as string, '-d', def);
  step('-d - (IN, ABCDEF123)', `${roles.IN}\nABCDEF123\n`, '-d', '-');
  step('-h ALL deferred', '', '-h', 'ALL', 'deferred');
  step('-r ALL', '', '-r', 'ALL');
  step('-d ALL maildrop', '', '-d', 'ALL', 'maildrop');
  assert.equal(out, golden('postsuper-steps.out'));
  assert.equal(normalize(logLines(s.maillog), roles), golden('postsuper-maillog.out'));
});

test('-e and -f mark forced expiration (and -f releases) as Postfix; mailq shows the mark', async (t) => {
  const s = await site(t);
  const roles: Record<string, string> = {
    EXPD: await message(s.layout, { queue: 'deferred' }),
    EXPH: await message(s.layout, { queue: 'hold' }),
  };
  let out = '';
  const step = (desc: string, ...args: string[]) => {
    const r = ours('postsuper', ['-c', s.conf, ...args]);
    out += `== ${desc}\n${normalize(r.stderr + r.stdout, roles)}-- files\n${layoutOf(s, roles)}`;
  };
  step('-e EXPD', '-e', roles.EXPD as string);
  step('-e EXPD -e EXPH', '-e', roles.EXPD as string, '-e', roles.EXPH as string);
  step('-f EXPH', '-f', roles.EXPH as string);
  step('-f ALL', '-f', 'ALL');
  for (const role of ['EXPD', 'EXPH']) {
    if ((statSync(queueFilePath(s.layout, 'deferred', roles[role] as string)).mode & 0o010) !== 0)
      out += `expired: deferred/${role}\n`;
  }
  assert.equal(out, golden('postsuper-expire.out'));
  const listing = ours('postqueue', ['-c', s.conf, '-p']).stdout;
  for (const id of Object.values(roles)) assert.match(listing, new RegExp(`^${id}# `, 'm'));
  const json = ours('postqueue', ['-c', s.conf, '-j']).stdout;
  assert.deepEqual(
    json
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).forced_expire),
    [true, true],
  );
  // Held and active messages keep their own mark before '#', as Postfix lists them.
  const act = await message(s.layout, { queue: 'active' });
  ours('postsuper', ['-c', s.conf, '-e', act, '-h', roles.EXPD as string]);
  const marks = ours('postqueue', ['-c', s.conf, '-p']).stdout;
  assert.match(marks, new RegExp(`^${act}\\*# `, 'm'));
  assert.match(marks, new RegExp(`^${roles.EXPD}!# `, 'm'));
});

test('a requeued message goes to maildrop as a whole queue file; done recipients stay done', async (t) => {
  const s = await site(t);
  const id = await message(s.layout, {
    queue: 'deferred',
    recipients: ['a@example.com', 'b@example.com'],
    done: ['a@example.com'],
  });
  const r = ours('postsuper', ['-c', s.conf, '-r', id]);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, `postsuper: ${id}: requeued\npostsuper: Requeued: 1 message\n`);
  const f = await openQueueFile(queueFilePath(s.layout, 'maildrop', id));
  assert.ok(f.ok);
  assert.deepEqual(
    f.file.recipients.map((x) => [x.address, x.done]),
    [
      ['a@example.com', true],
      ['b@example.com', false],
    ],
  );
  await f.file.close();
});

test('-s puts files in their hashed directories and names short IDs after their inode', async (t) => {
  const s = await site(t, 'hash_queue_names = deferred, hold, defer\n');
  const ok = await message(s.layout, { queue: 'deferred' });
  const held = await message(s.layout, { queue: 'incoming' });
  // Hold is hashed now, but the file sits at the top (hashing was just switched on).
  const flat = join(s.queue, 'hold', held);
  renameSync(queueFilePath(s.layout, 'incoming', held), flat);
  // A restored file whose name does not carry its inode.
  const restored = await message(s.layout, { queue: 'deferred' });
  const wrong = `${restored.slice(0, 5)}1`;
  renameSync(queueFilePath(s.layout, 'deferred', restored), queueFilePath(s.layout, 'deferred', wrong));
  await mkdir(dirname(queueFilePath(s.layout, 'defer', wrong)), { recursive: true });
  writeFileSync(queueFilePath(s.layout, 'defer', wrong), 'recipient=x\nreason=y\n\n');
  writeFileSync(join(s.queue, 'active', 'junk'), '');
  const r = ours('postsuper', ['-c', s.conf, '-s']);
  assert.equal(r.status, 0);
  assert.equal(
    r.stderr,
    'postsuper: warning: bogus file name: active/junk\n' +
      'postsuper: Renamed to match inode number: 1 message\n' +
      'postsuper: warning: QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS\n',
  );
  assert.ok(statSync(queueFilePath(s.layout, 'hold', held)).isFile());
  assert.ok(statSync(queueFilePath(s.layout, 'deferred', ok)).isFile());
  assert.ok(statSync(queueFilePath(s.layout, 'deferred', restored)).isFile());
  assert.ok(statSync(queueFilePath(s.layout, 'defer', restored)).isFile());
  // Nothing left to repair: a second run is silent but for the bogus name.
  assert.equal(
    ours('postsuper', ['-c', s.conf, '-s']).stderr,
    'postsuper: warning: bogus file name: active/junk\n',
  );
});

test('-p removes only temporary files old enough that their writer is gone', async (t) => {
  const s = await site(t);
  const keep = await message(s.layout, { queue: 'incoming' });
  const old = join(s.queue, 'incoming', 't123.1.abcd');
  const young = join(s.queue, 'incoming', 't124.1.abcd');
  writeFileSync(old, '');
  writeFileSync(young, '');
  const past = new Date(Date.now() - 2 * 86400_000);
  utimesSync(old, past, past);
  const r = ours('postsuper', ['-c', s.conf, '-p']);
  assert.deepEqual(r, { stdout: '', stderr: 'postsuper: Deleted: 1 temporary file\n', status: 0 });
  assert.deepEqual(readdirSync(join(s.queue, 'incoming')).sort(), [keep, 't124.1.abcd'].sort());
});

test('only the superuser or the queue owner may run postsuper', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run as another user');
    return;
  }
  const s = await site(t);
  const id = await message(s.layout, { queue: 'deferred' });
  chmodSync(s.dir, 0o755);
  chmodSync(s.conf, 0o755);
  chmodSync(s.queue, 0o755);
  const r = spawnSync(join(ROOT, 'bin', 'postsuper'), ['-c', s.conf, '-d', 'ALL'], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
  });
  assert.equal(r.stderr, 'postsuper: fatal: use of this command is reserved for the superuser\n');
  assert.equal(r.status, 1);
  assert.ok(statSync(queueFilePath(s.layout, 'deferred', id)).isFile());
});
