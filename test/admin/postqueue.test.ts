/*
 * postqueue and mailq as a user runs them: the listing through our showq
 * daemon, the direct listing when it is down, flush requests to qmgr, and
 * Postfix 3.7's messages and exit codes (test/golden/admin/postqueue-*.out).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { formatJson, formatListing, scanMessages } from '../../src/showq/listing.js';
import { ours, postfixCommand, ROOT, run } from '../harness/index.js';
import { fakeQmgr, golden, message, normalize, sections, site, startService } from './fixture.js';

const env = { TZ: 'UTC' };

test('usage errors and refusals: same messages and exit status 69 as Postfix', async (t) => {
  const s = await site(t);
  const pq = (...args: string[]) => sections(ours('postqueue', ['-c', s.conf, ...args], { env }));
  assert.equal(pq(), golden('postqueue-usage.out'));
  assert.equal(pq('-p', '-j'), golden('postqueue-two.out'));
  assert.equal(pq('-Z'), golden('postqueue-badopt.out'));
  assert.equal(pq('-s'), golden('postqueue-noarg.out'));
  assert.equal(pq('-s', 'example.com'), golden('postqueue-site-denied.out'));
  assert.equal(pq('-f'), golden('postqueue-down-f.out'));
});

test('showq down: the owner gets the queue read directly, after Postfix warning', async (t) => {
  const s = await site(t);
  const pq = (...args: string[]) => sections(ours('postqueue', ['-c', s.conf, ...args], { env }));
  assert.equal(pq('-p'), golden('postqueue-down-p.out'));
  assert.equal(pq('-j'), golden('postqueue-down-j.out'));
  const id = await message(s.layout, { queue: 'deferred', arrival: 1795602010 });
  const r = ours('postqueue', ['-c', s.conf, '-p'], { env });
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`^${id} +21 Wed Nov 25 \\d\\d:20:10  sender@example.com$`, 'm'));
  assert.match(r.stderr, /accessing queue directly/);
});

test('postqueue -p, -j and mailq list the queue through the showq service', async (t) => {
  const s = await site(t);
  await message(s.layout, { queue: 'active', sender: '', recipients: ['a@example.com', 'b@example.org'] });
  await message(s.layout, {
    queue: 'hold',
    recipients: ['x@example.com', 'y@example.com'],
    done: ['x@example.com'],
  });
  await message(s.layout, { queue: 'deferred', body: `Subject: big\n\n${'x'.repeat(3100)}\n` });
  await startService(t, s, 'showq', 'showq', 'public');
  process.env.TZ = 'UTC';
  const messages = await scanMessages(s.layout);
  assert.equal(messages.length, 3);
  const p = ours('postqueue', ['-c', s.conf, '-p'], { env });
  assert.deepEqual(p, { stdout: formatListing(messages), stderr: '', status: 0 });
  assert.match(p.stdout, /-- 3 Kbytes in 3 Requests\.\n$/);
  assert.match(p.stdout, /MAILER-DAEMON/);
  assert.doesNotMatch(p.stdout, /x@example\.com/);
  const j = ours('postqueue', ['-c', s.conf, '-j'], { env });
  assert.deepEqual(j, { stdout: formatJson(messages), stderr: '', status: 0 });
  assert.deepEqual(
    j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).queue_name),
    ['active', 'deferred', 'hold'],
  );
  const mq = ours('mailq', ['-C', s.conf], { env });
  assert.deepEqual(mq, p);
});

test('the showq service ignores requests it does not know', async (t) => {
  const s = await site(t);
  await startService(t, s, 'showq', 'showq', 'public');
  const script = `const c=require('net').connect(process.argv[1]);let o='';c.on('data',d=>o+=d);c.on('close',()=>{process.stdout.write(JSON.stringify(o))});c.write('bogus\\n');`;
  const r = run(process.execPath, ['-e', script, `${s.queue}/public/showq`]);
  assert.equal(r.stdout, '""');
  const ok = run(process.execPath, ['-e', script.replace('bogus', 'text'), `${s.queue}/public/showq`]);
  assert.equal(ok.stdout, JSON.stringify('Mail queue is empty\n'));
});

test('postqueue -f sends qmgr the flush trigger', async (t) => {
  const s = await site(t);
  const q = await fakeQmgr(t, s);
  const r = ours('postqueue', ['-c', s.conf, '-f']);
  assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(q.bytes(), 'F');
});

test("postqueue -s site makes that site's deferred mail due now; -i one message", async (t) => {
  const s = await site(t, 'fast_flush_domains = example.net\n');
  const q = await fakeQmgr(t, s);
  const hit = await message(s.layout, { queue: 'deferred', recipients: ['a@other.org', 'b@EXAMPLE.net'] });
  const miss = await message(s.layout, { queue: 'deferred', recipients: ['c@example.com'] });
  const done = await message(s.layout, {
    queue: 'deferred',
    recipients: ['d@example.net', 'e@example.com'],
    done: ['d@example.net'],
  });
  const later = new Date(Date.now() + 3600_000);
  for (const id of [hit, miss, done]) utimesSync(queueFilePath(s.layout, 'deferred', id), later, later);
  const due = (id: string) => statSync(queueFilePath(s.layout, 'deferred', id)).mtimeMs <= Date.now();
  assert.deepEqual(ours('postqueue', ['-c', s.conf, '-s', 'example.net']), {
    stdout: '',
    stderr: '',
    status: 0,
  });
  assert.deepEqual([due(hit), due(miss), due(done)], [true, false, false]);
  assert.equal(
    sections(ours('postqueue', ['-c', s.conf, '-s', 'example.com'])),
    golden('postqueue-site-denied.out'),
  );
  assert.deepEqual(ours('postqueue', ['-c', s.conf, '-i', miss]), { stdout: '', stderr: '', status: 0 });
  assert.equal(due(miss), true);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(q.bytes(), 'DD');
});

test('postqueue -i with qmgr down fails as a flush does', async (t) => {
  const s = await site(t);
  const r = ours('postqueue', ['-c', s.conf, '-i', 'ABCDEF123']);
  assert.equal(r.status, 69);
  assert.match(r.stderr, /fatal: Cannot flush mail queue - mail system is down\n$/);
  assert.equal(normalize(r.stderr, {}, s.dir).includes('$DIR'), false);
});

test('any user lists the queue through showq; without it only the owner may', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run as another user');
    return;
  }
  const s = await site(t);
  await message(s.layout, { queue: 'deferred' });
  for (const d of [s.dir, s.conf, s.queue, `${s.queue}/public`]) chmodSync(d, 0o755);
  const asNobody = () =>
    spawnSync(join(ROOT, 'bin', 'postqueue'), ['-c', s.conf, '-p'], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
  const down = asNobody();
  assert.equal(
    down.stderr,
    'postqueue: fatal: Queue report unavailable - mail system is down (Connect to the Postfix showq service: No such file or directory)\n',
  );
  assert.equal(down.status, 69);
  await startService(t, s, 'showq', 'showq', 'public');
  // Public services accept any local user (master makes their sockets world-writable).
  chmodSync(`${s.queue}/public/showq`, 0o666);
  const up = asNobody();
  assert.equal(up.stderr, '');
  assert.equal(up.status, 0);
  assert.match(up.stdout, /-- 0 Kbytes in 1 Request\.\n$/);
});

test('live: Postfix postqueue says the same for usage errors and refusals', async (t) => {
  const postqueue = postfixCommand(t, 'postqueue');
  if (postqueue === null) return;
  const s = await site(t);
  for (const args of [[], ['-p', '-j'], ['-Z'], ['-s'], ['-s', 'example.com'], ['-f']]) {
    const want = run(postqueue, ['-c', s.conf, ...args]);
    const got = ours('postqueue', ['-c', s.conf, ...args]);
    assert.deepEqual({ args, ...got }, { args, ...want });
  }
});

test('authorized_mailq_users and authorized_flush_users refuse other users, never root', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run as another user');
    return;
  }
  const s = await site(t, 'authorized_mailq_users = alice\nauthorized_flush_users =\n');
  for (const d of [s.dir, s.conf, s.queue, `${s.queue}/public`]) chmodSync(d, 0o755);
  const asNobody = (...args: string[]) =>
    spawnSync(join(ROOT, 'bin', 'postqueue'), ['-c', s.conf, ...args], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
  const p = asNobody('-p');
  assert.deepEqual(
    [p.stdout, p.stderr, p.status],
    ['', 'postqueue: fatal: User nobody(65534) is not allowed to view the mail queue\n', 69],
  );
  const f = asNobody('-f');
  assert.deepEqual(
    [f.stderr, f.status],
    ['postqueue: fatal: User nobody(65534) is not allowed to flush the mail queue\n', 69],
  );
  assert.equal(ours('postqueue', ['-c', s.conf, '-p']).status, 0);
});
