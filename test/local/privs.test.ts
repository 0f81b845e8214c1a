import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/index.js';
import { pythonRead } from '../mailbox/helpers.js';
import { aliases, startLocal } from './fixture.js';
import { testUser } from './users.js';

const asRoot = process.getuid?.() === 0;

test('as root, a user cannot be made to write where only root may: a spool mailbox symlink is refused', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t);
  const target = join(lt.q.base, 'root-only');
  writeFileSync(target, 'precious\n', { mode: 0o600 });
  symlinkSync(target, join(lt.spool, 'prtest1'));
  const { id, reply } = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['bounced'],
  );
  assert.match(
    lt.statusLines(id)[0] ?? '',
    /dsn=5\.2\.0, status=bounced \(cannot update mailbox .*\/spool\/prtest1 for user prtest1\. /u,
  );
  assert.equal(readFileSync(target, 'utf8'), 'precious\n');
});

test('as root, alias file deliveries run as default_privs: a root-only directory is out of reach', async (t) => {
  if (!asRoot) return t.skip('needs root');
  const lt = await startLocal(t, (q) => {
    mkdirSync(join(q.base, 'rootdir'), { mode: 0o700 });
    return `alias_maps = ${aliases(q, `x: ${q.base}/rootdir/x.mbox\n`)}`;
  });
  const { id } = await lt.deliver({ recipients: ['x@host.example'] });
  assert.deepEqual(lt.statusLines(id), [
    `to=<x@host.example>, relay=local, dsn=5.2.0, status=bounced (cannot append message to file ${lt.q.base}/rootdir/x.mbox: cannot open file: Permission denied)`,
  ]);
});

test("mailboxes written by local read back with Python's mailbox module", async (t) => {
  const u = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u || !u2) return;
  const lt = await startLocal(
    t,
    (q) =>
      `mailbox_command_maps = inline:{ {prtest2=/bin/false} }\nalias_maps = ${aliases(q, `md: ${q.base}/files/md/\n`)}`,
  );
  await lt.deliver({ recipients: ['prtest1@host.example'], content: 'Subject: one\n\nFrom me\n' });
  await lt.deliver({ sender: '', recipients: ['prtest1@host.example'], content: 'Subject: two\n\nlast' });
  const md = await lt.deliver({ recipients: ['md@host.example'], content: 'Subject: three\n\nx\n' });
  assert.deepEqual(
    md.reply.results.map((r) => r.outcome),
    ['sent'],
    lt.maillog(),
  );
  const box = pythonRead('mbox', join(lt.spool, 'prtest1'));
  assert.equal(box.length, 2);
  assert.equal(box[0]?.from?.startsWith('sender@example.com  '), true);
  assert.match(box[0]?.bytes ?? '', /Subject: one\n\n>From me\n$/u);
  assert.equal(box[1]?.from?.startsWith('MAILER-DAEMON  '), true);
  assert.match(box[1]?.bytes ?? '', /^Return-Path: <>\n/u);
  const dir = pythonRead('Maildir', join(lt.files, 'md'));
  assert.equal(dir.length, 1);
  assert.match(
    dir[0]?.bytes ?? '',
    /^Return-Path: <sender@example\.com>\nX-Original-To: md@host\.example\nDelivered-To: md@host\.example\nSubject: three\n/u,
  );
});

test("run as an ordinary user, local delivers everything in-process with that user's rights", async (t) => {
  if (!asRoot) return t.skip('needs root to start local as another user');
  const u = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u || !u2) return;
  const main = join(ROOT, 'dist/src/local/main.js');
  const readable = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(main)})`], {
    uid: u.uid,
    gid: u.gid,
  });
  if (readable.status !== 0) return t.skip(`${u.name} cannot read ${main} (checkout not world-readable)`);
  const lt = await startLocal(
    t,
    (q) => `alias_maps = ${aliases(q, `who: "|id -u > ${q.base}/files/who"\n`)}`,
    {
      user: u,
    },
  );
  const a = await lt.deliver({ recipients: ['who@host.example'] });
  assert.deepEqual(
    a.reply.results.map((r) => r.outcome),
    ['sent'],
    lt.maillog(),
  );
  assert.equal(readFileSync(join(lt.files, 'who'), 'utf8').trim(), String(u.uid));
  const b = await lt.deliver({ recipients: ['prtest2@host.example'] });
  assert.deepEqual(
    b.reply.results.map((r) => r.outcome),
    ['sent'],
    lt.maillog(),
  );
  assert.equal(statSync(join(lt.spool, 'prtest2')).uid, u.uid);
});

test('strict_mailbox_ownership: a spool mailbox owned by someone else defers; require_home_directory', async (t) => {
  if (!asRoot) return t.skip('needs root');
  const u = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u || !u2) return;
  const lt = await startLocal(t);
  writeFileSync(join(lt.spool, 'prtest1'), '');
  chownSync(join(lt.spool, 'prtest1'), u2.uid, u2.gid);
  const { id, reply } = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['deferred'],
  );
  assert.deepEqual(lt.statusLines(id), [
    `to=<prtest1@host.example>, relay=local, dsn=4.2.0, status=deferred (destination ${lt.spool}/prtest1 is not owned by recipient)`,
  ]);
  assert.match(
    lt.maillog(),
    /warning: specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch/u,
  );
  const lt2 = await startLocal(t, 'require_home_directory = yes\nhome_mailbox = Mailbox');
  const r2 = await lt2.deliver({ recipients: ['nobody@host.example'] });
  assert.deepEqual(
    r2.reply.results.map((r) => r.outcome),
    ['deferred'],
  );
  assert.match(
    lt2.statusLines(r2.id)[0] ?? '',
    /status=deferred \(cannot access home directory \/nonexistent: No such file or directory\)/u,
  );
});

test('as root, the spool dot lock is made by root: a spool directory the user cannot write to works, a busy lock defers', async (t) => {
  if (!asRoot) return t.skip('needs root');
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'deliver_lock_attempts = 1\nmailbox_delivery_lock = dotlock');
  chmodSync(lt.spool, 0o755);
  const a = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(
    a.reply.results.map((r) => r.outcome),
    ['sent'],
    lt.maillog(),
  );
  assert.doesNotMatch(lt.maillog(), /warning/u);
  assert.equal(statSync(join(lt.spool, 'prtest1')).uid, u.uid);
  assert.equal(existsSync(join(lt.spool, 'prtest1.lock')), false);
  writeFileSync(join(lt.spool, 'prtest1.lock'), '');
  const b = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    `to=<prtest1@host.example>, relay=local, dsn=4.2.0, status=deferred (cannot update mailbox ${lt.spool}/prtest1 for user prtest1. unable to create lock file ${lt.spool}/prtest1.lock: File exists)`,
  ]);
});

test('as root, concurrent first deliveries to a new spool mailbox all succeed (it is never seen owned by root)', async (t) => {
  if (!asRoot) return t.skip('needs root');
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t);
  const ready = await Promise.all(
    Array.from({ length: 20 }, () => lt.prepare({ recipients: ['prtest1@host.example'] })),
  );
  const replies = await Promise.all(ready.map((r) => r.send()));
  assert.deepEqual(
    replies.map((r) => r.results.map((x) => x.outcome).join()),
    Array(20).fill('sent'),
    lt.maillog(),
  );
  assert.equal(statSync(join(lt.spool, 'prtest1')).uid, u.uid);
  assert.equal(readFileSync(join(lt.spool, 'prtest1'), 'utf8').match(/^From /gmu)?.length, 20);
});
