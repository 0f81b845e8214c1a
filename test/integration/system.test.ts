/*
 * The system as a whole: mail submitted while the daemons are down waits
 * in maildrop/ and goes out after start; reload keeps the queue; a queue
 * file that cannot be read goes to corrupt/ and the rest carries on; a
 * success notice for DSN NOTIFY=SUCCESS; always_bcc and address
 * extensions.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import { getpwnam, isRoot } from '../../src/master/master_user.js';
import { header, type Instance, startInstance } from '../harness/instance.js';

test('mail submitted while the system is down waits in maildrop; start and reload deliver it', async (t) => {
  const inst = startInstance(t, { noStart: true });
  if (!inst) return;
  // postfix check creates the queue directories, as before a first start.
  assert.equal(inst.postfix(['check']).status, 0);
  const r = inst.sendmail(['prtest1'], 'Subject: while down\n\nx\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(inst.queueIds('maildrop').length, 1);
  inst.start();
  await inst.until('the delivery', () => inst.readMbox(join(inst.spool, 'prtest1')).length === 1);
  const reload = inst.postfix(['reload']);
  assert.equal(reload.status, 0, reload.stderr);
  await inst.waitForLog(/postfix\/master\[\d+\]: reload -- version 3\.7\.11/);
  inst.mail(['prtest1'], 'Subject: after reload\n\nx\n');
  await inst.until('the second delivery', () => inst.readMbox(join(inst.spool, 'prtest1')).length === 2);
  assert.deepEqual(
    inst.readMbox(join(inst.spool, 'prtest1')).map((m) => header(m, 'Subject')),
    ['while down', 'after reload'],
  );
});

test('a queue file that cannot be parsed goes to corrupt/ with a log line; other mail still flows', async (t) => {
  const inst = startInstance(t);
  if (!inst) return;
  const id = 'ABCDEF12345';
  const path = join(inst.queue, 'incoming', id);
  writeFileSync(path, 'this is not a queue file\n', { mode: 0o600 });
  const owner = isRoot() ? getpwnam('postfix') : undefined;
  if (owner) chownSync(path, owner.uid, owner.gid);
  inst.mail(['prtest2'], 'Subject: fine\n\nx\n');
  await inst.until('the good message', () => inst.readMbox(join(inst.spool, 'prtest2')).length === 1);
  await inst.until('the file in corrupt/', () => inst.queueIds('corrupt').includes(id));
  assert.deepEqual(inst.queueIds('incoming'), []);
  assert.match(inst.log(), new RegExp(`postfix/qmgr\\[\\d+\\]: warning: .*${id}.*corrupt`, 'i'));
});

test('DSN NOTIFY=SUCCESS gets a success notice; always_bcc; address extensions', async (t) => {
  const inst = startInstance(t, {
    mainCf: { always_bcc: 'prtest2', recipient_delimiter: '+' },
  });
  if (!inst) return;
  const r = inst.sendmail(['-f', 'prtest2', '-N', 'success', 'prtest1+lists'], 'Subject: tell me\n\nx\n');
  assert.equal(r.status, 0, r.stderr);
  // prtest1 gets it (the extension is the user's); prtest2 gets the bcc copy and the notice.
  await inst.until('the delivery', () => inst.readMbox(join(inst.spool, 'prtest1')).length === 1);
  await inst.until('bcc copy and notice', () => inst.readMbox(join(inst.spool, 'prtest2')).length === 2);
  await inst.waitForQueueEmpty();
  const [m] = inst.readMbox(join(inst.spool, 'prtest1'));
  assert.equal(header(m!, 'Delivered-To'), 'prtest1+lists@host.example.com');
  const box2 = inst.readMbox(join(inst.spool, 'prtest2'));
  const notice = box2.find((x) => header(x, 'Subject') === DEFAULT_TEMPLATES.success.subject);
  assert.ok(notice, JSON.stringify(box2.map((x) => header(x, 'Subject'))));
  const rcpt = notice.mime.parts![1]!.blocks![1]!;
  const field = (k: string) => rcpt.find(([n]) => n === k)?.[1];
  assert.equal(field('Final-Recipient'), 'rfc822; prtest1+lists@host.example.com');
  assert.equal(field('Action'), 'delivered');
  assert.equal(field('Status'), '2.0.0');
  assert.ok(box2.some((x) => header(x, 'Subject') === 'tell me'));
  const log = inst.log();
  assert.match(log, /: sender delivery status notification: \w+/);
  assert.match(
    log,
    /to=<prtest1\+lists@host\.example\.com>, orig_to=<prtest1\+lists>, relay=local, .*status=sent \(delivered to mailbox\)/,
  );
});

test('temporary files a killed cleanup left in incoming/ are removed when master starts', async (t) => {
  const inst = startInstance(t, { noStart: true });
  if (!inst) return;
  assert.equal(inst.postfix(['check']).status, 0);
  const stale = join(inst.queue, 'incoming', 't12345.7.0badc0de');
  const keep = join(inst.queue, 'maildrop', 't12345.8.0badc0de');
  writeFileSync(stale, 'half a queue file');
  writeFileSync(keep, 'sendmail may still be writing this');
  inst.start();
  await inst.waitForLog(/removed stale temporary file incoming\/t12345\.7\.0badc0de/);
  assert.equal(existsSync(stale), false);
  assert.equal(existsSync(keep), true, 'maildrop/ belongs to sendmail, not master');
});

test('POSTROOM_NODE_FLAGS reaches every daemon master starts (profiling the whole system)', async (t) => {
  const profiles = mkdtempSync(join(tmpdir(), 'postroom-prof-'));
  chmodSync(profiles, 0o777);
  t.after(() => rmSync(profiles, { recursive: true, force: true }));
  process.env.POSTROOM_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profiles}`;
  let inst: Instance | null;
  try {
    inst = startInstance(t);
  } finally {
    delete process.env.POSTROOM_NODE_FLAGS;
  }
  if (!inst) return;
  inst.mail(['prtest1'], 'Subject: profiled\n\nx\n');
  await inst.until('the delivery', () => inst.readMbox(join(inst.spool, 'prtest1')).length === 1);
  inst.stop();
  // Each daemon writes its profile as it exits: pickup, cleanup, qmgr, local at least.
  await inst.until(
    'the profiles',
    () => readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).length >= 4,
  );
});
