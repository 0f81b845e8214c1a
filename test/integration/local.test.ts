/*
 * Local delivery through the whole system: sendmail -> pickup -> cleanup
 * -> qmgr -> local, into mbox and Maildir, through aliases (lists,
 * :include:, /file, |command) and .forward; the log lines of each step.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot } from '../../src/master/master_user.js';
import { account, header, startInstance } from '../harness/instance.js';

const ID = '[0-9A-F]{6,}';

test('sendmail to a local user: mbox with From_ line, Return-Path, Delivered-To; Postfix log lines', async (t) => {
  const inst = startInstance(t);
  if (!inst) return;
  const r = inst.sendmail(
    ['-f', 'sender@example.org', 'prtest1'],
    'Subject: hello\n\nFrom the start\nline 2\n',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  await inst.waitForLog(/: removed\n/);
  await inst.waitForQueueEmpty();
  const mbox = join(inst.spool, 'prtest1');
  if (isRoot())
    assert.equal(statSync(mbox).uid, account(t, 'prtest1')!.uid, 'the mbox belongs to the recipient');
  const [m, ...more] = inst.readMbox(mbox);
  assert.equal(more.length, 0);
  assert.match(m!.fromLine!, /^From sender@example\.org {1,2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  assert.equal(header(m!, 'Return-Path'), '<sender@example.org>');
  assert.equal(header(m!, 'Delivered-To'), `prtest1@${inst.myhostname}`);
  assert.equal(header(m!, 'Subject'), 'hello');
  // The full name comes from the submitting user's GECOS field.
  assert.match(header(m!, 'From') ?? '', /^(\S.* )?<sender@example\.org>$|^sender@example\.org$/);
  assert.match(header(m!, 'Message-Id') ?? '', new RegExp(`^<\\d{14}\\.${ID}@host\\.example\\.com>$`));
  assert.match(
    header(m!, 'Received') ?? '',
    /^by host\.example\.com \(Postfix, from userid \d+\)\s+id [0-9A-F]+; /,
  );
  // mbox quoting: a body line "From " is stored as ">From " and read back by Python's mailbox.
  assert.match(readFileSync(mbox, 'utf8'), /^>From the start$/m);

  const log = inst.log();
  const id = new RegExp(`postfix/pickup\\[\\d+\\]: (${ID}): uid=\\d+ from=<sender@example\\.org>`).exec(
    log,
  )?.[1];
  assert.ok(id, log);
  const line = (re: string) => assert.match(log, new RegExp(`host postfix/${re}\n`), re);
  line(`cleanup\\[\\d+\\]: ${id}: message-id=<\\d{14}\\.${id}@host\\.example\\.com>`);
  line(`qmgr\\[\\d+\\]: ${id}: from=<sender@example\\.org>, size=\\d+, nrcpt=1 \\(queue active\\)`);
  line(
    `local\\[\\d+\\]: ${id}: to=<prtest1@host\\.example\\.com>, orig_to=<prtest1>, relay=local, delay=[\\d.]+, delays=[\\d.]+/[\\d.]+/[\\d.]+/[\\d.]+, dsn=2\\.0\\.0, status=sent \\(delivered to mailbox\\)`,
  );
  line(`qmgr\\[\\d+\\]: ${id}: removed`);
  // The life of the message, in order.
  assert.deepEqual(
    inst.logFor(id).map((l) => /^postfix\/(\w+)\[/.exec(l)?.[1]),
    ['pickup', 'cleanup', 'qmgr', 'local', 'qmgr'],
  );
});

test('mail_spool_directory ending in "/": Maildir per user, read back by Python', async (t) => {
  const inst = startInstance(t, { mainCf: (dir) => ({ mail_spool_directory: `${dir}/mail/` }) });
  if (!inst) return;
  for (const n of [1, 2]) inst.mail(['prtest2'], `Subject: m${n}\n\nbody ${n}\n`);
  await inst.waitForLog(/status=sent \(delivered to maildir\)[\s\S]*status=sent \(delivered to maildir\)/);
  const box = inst.readMaildir(join(inst.spool, 'prtest2'));
  assert.deepEqual(box.map((m) => header(m, 'Subject')).sort(), ['m1', 'm2']);
  for (const m of box) {
    // time.V<dev>I<inode>M<usec>.<host name of the machine>
    assert.match(m.file!, /^new\/\d+\.V[0-9a-f]+I[0-9a-f]+M\d+\.[^/]+$/);
    assert.equal(header(m, 'Delivered-To'), `prtest2@${inst.myhostname}`);
  }
});

test('aliases: a list, :include:, /file and |command; .forward', async (t) => {
  const users = [account(t, 'prtest1'), account(t, 'prtest2')];
  if (users.includes(null)) return;
  const p2 = users[1]!;
  const inst = startInstance(t, {
    aliases: (dir) =>
      [
        'postmaster: root',
        'team: prtest1, prtest2',
        `inc: :include:${dir}/files/members`,
        `tofile: ${dir}/files/archive`,
        `tocmd: "|/bin/sh -c 'cat > ${dir}/files/cmd.out'"`,
        '',
      ].join('\n'),
  });
  if (!inst) return;
  writeFileSync(join(inst.files, 'members'), 'prtest1\n');
  // prtest2 keeps a copy and forwards one to prtest1.
  const fwd = join(inst.forward, 'prtest2');
  writeFileSync(fwd, '\\prtest2, prtest1\n');
  inst.own(fwd, p2);
  const send = (to: string, subject: string) =>
    inst.mail(['-f', 'owner@example.org', to], `Subject: ${subject}\n\n${subject} body\n`);
  send('team', 'to-team');
  send('inc', 'to-inc');
  send('tofile', 'to-file');
  send('tocmd', 'to-cmd');
  await inst.waitForQueueEmpty();
  await inst.waitForLog(/delivered to command/);
  await inst.waitForQueueEmpty();
  const subjects = (user: string) =>
    inst
      .readMbox(join(inst.spool, user))
      .map((m) => header(m, 'Subject'))
      .sort();
  // team -> prtest1 and prtest2; prtest2's .forward keeps a copy and sends one more to prtest1.
  assert.deepEqual(subjects('prtest1'), ['to-inc', 'to-team', 'to-team']);
  assert.deepEqual(subjects('prtest2'), ['to-team']);
  const archive = inst.readMbox(join(inst.files, 'archive'));
  assert.deepEqual(
    archive.map((m) => header(m, 'Subject')),
    ['to-file'],
  );
  assert.equal(header(archive[0]!, 'Delivered-To'), `tofile@${inst.myhostname}`);
  assert.match(readFileSync(join(inst.files, 'cmd.out'), 'utf8'), /^Subject: to-cmd$[\s\S]*^to-cmd body$/m);
  const log = inst.log();
  assert.match(
    log,
    /to=<prtest1@host\.example\.com>, orig_to=<team>, relay=local, .*status=sent \(delivered to mailbox\)/,
  );
  assert.match(
    log,
    /to=<prtest1@host\.example\.com>, orig_to=<inc>, relay=local, .*status=sent \(delivered to mailbox\)/,
  );
  assert.match(
    log,
    /to=<tofile@host\.example\.com>, orig_to=<tofile>, relay=local, .*status=sent \(delivered to file: /,
  );
  assert.match(
    log,
    /to=<tocmd@host\.example\.com>, orig_to=<tocmd>, relay=local, .*status=sent \(delivered to command: /,
  );
  assert.doesNotMatch(log, /status=(bounced|deferred)/);
});

test('owner- aliases, luser_relay, Delivered-To loop detection', async (t) => {
  const inst = startInstance(t, {
    mainCf: { luser_relay: 'prtest2' },
    aliases: 'postmaster: root\nlist: prtest1\nowner-list: prtest2\n',
  });
  if (!inst) return;
  inst.mail(['-f', 'poster@example.org', 'list'], 'Subject: to the list\n\nx\n');
  inst.mail(['-f', 'poster@example.org', 'ghostuser'], 'Subject: to nobody\n\nx\n');
  inst.mail(
    ['-f', 'prtest2', 'prtest1'],
    `Delivered-To: prtest1@${inst.myhostname}\nSubject: looping\n\nx\n`,
  );
  const box = (u: string) => inst.readMbox(join(inst.spool, u));
  const end = Date.now() + 30_000;
  while (box('prtest1').length < 1 || box('prtest2').length < 2) {
    if (Date.now() > end) throw new Error(`mail missing\n${inst.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await inst.waitForQueueEmpty();
  // A list with an owner- alias is re-sent with the owner as the sender.
  const [m1] = box('prtest1');
  assert.equal(header(m1!, 'Subject'), 'to the list');
  assert.equal(header(m1!, 'Return-Path'), `<owner-list@${inst.myhostname}>`);
  const log = inst.log();
  assert.match(
    log,
    /to=<list@host\.example\.com>, orig_to=<list>, relay=local, .*status=sent \(forwarded as \w+\)/,
  );
  // luser_relay takes mail for unknown users.
  const subjects = box('prtest2').map((m) => header(m, 'Subject'));
  assert.ok(subjects.includes('to nobody'), JSON.stringify(subjects));
  // The looping message comes back to its sender (prtest2) as a 5.4.6 bounce.
  assert.match(
    log,
    /to=<prtest1@host\.example\.com>, orig_to=<prtest1>, relay=local, .*dsn=5\.4\.6, status=bounced \(mail forwarding loop for prtest1@host\.example\.com\)/,
  );
  const notice = box('prtest2').find((m) => m.mime.type === 'multipart/report');
  assert.ok(notice);
  assert.equal(notice.mime.parts![1]!.blocks![1]!.find(([k]) => k === 'Status')?.[1], '5.4.6');
});

test('mailbox_command delivers through a command as the recipient', async (t) => {
  const inst = startInstance(t, { mainCf: (dir) => ({ mailbox_command: `cat > ${dir}/files/mc.out` }) });
  if (!inst) return;
  inst.mail(['-f', 'sender@example.org', 'prtest1'], 'Subject: via command\n\nx\n');
  await inst.waitForLog(/status=sent \(delivered to command: cat > /);
  await inst.waitForQueueEmpty();
  const out = join(inst.files, 'mc.out');
  assert.match(readFileSync(out, 'utf8'), /^Subject: via command$/m);
  assert.match(readFileSync(out, 'utf8'), /^Delivered-To: prtest1@host\.example\.com$/m);
  if (isRoot())
    assert.equal(statSync(out).uid, account(t, 'prtest1')!.uid, 'the command ran as the recipient');
});
