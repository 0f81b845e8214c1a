/*
 * Address rewriting and virtual delivery through the whole system:
 * virtual alias expansion, canonical mapping, masquerading (cleanup), and
 * virtual(8) mailboxes (Maildir and mbox) under virtual_mailbox_base.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { header, startInstance } from '../harness/instance.js';

test('virtual alias expansion, sender/recipient canonical, masquerading', async (t) => {
  const inst = startInstance(t, {
    mainCf: {
      virtual_alias_domains: 'virt.example',
      virtual_alias_maps:
        'inline:{ {sales@virt.example = prtest1, bob@virt.example}, {bob@virt.example = prtest2@host.example.com} }',
      sender_canonical_maps: 'inline:{ {olduser@host.example.com = Jane.Doe@host.example.com} }',
      recipient_canonical_maps: 'inline:{ {info@host.example.com = prtest2@host.example.com} }',
      masquerade_domains: 'example.com',
      masquerade_exceptions: 'root',
    },
  });
  if (!inst) return;
  const send = (from: string, to: string, subject: string) =>
    inst.mail(['-f', from, to], `Subject: ${subject}\n\nx\n`);
  send('someone@example.org', 'sales@virt.example', 'virtual');
  send('olduser', 'info', 'canonical');
  send('root', 'prtestmta', 'excepted');
  await inst.waitForQueueEmpty();
  await inst.waitForLog(/to=<prtest2@host\.example\.com>, orig_to=<info>/);

  const box1 = inst.readMbox(join(inst.spool, 'prtest1'));
  const box2 = inst.readMbox(join(inst.spool, 'prtest2'));
  assert.deepEqual(
    box1.map((m) => header(m, 'Subject')),
    ['virtual'],
  );
  assert.deepEqual(box2.map((m) => header(m, 'Subject')).sort(), ['canonical', 'virtual']);
  // Recursive expansion: sales -> bob -> prtest2; the original recipient stays sales@virt.example.
  const log = inst.log();
  assert.match(
    log,
    /to=<prtest1@host\.example\.com>, orig_to=<sales@virt\.example>, relay=local, .*status=sent/,
  );
  assert.match(
    log,
    /to=<prtest2@host\.example\.com>, orig_to=<sales@virt\.example>, relay=local, .*status=sent/,
  );

  const canon = box2.find((m) => header(m, 'Subject') === 'canonical')!;
  // sender_canonical, then masquerading host.example.com -> example.com (envelope and header).
  assert.equal(header(canon, 'Return-Path'), '<Jane.Doe@example.com>');
  assert.match(header(canon, 'From') ?? '', /<?Jane\.Doe@example\.com>?$/);
  assert.match(log, /from=<Jane\.Doe@example\.com>, size=\d+, nrcpt=1 \(queue active\)/);
  // masquerade_exceptions: root keeps its full domain.
  await inst.waitForLog(/to=<prtestmta@host\.example\.com>.*status=sent/);
  const [kept] = inst.readMbox(join(inst.spool, 'prtestmta'));
  assert.equal(header(kept!, 'Return-Path'), '<root@host.example.com>');
});

test('virtual mailbox domains: Maildir and mbox under virtual_mailbox_base', async (t) => {
  const inst = startInstance(t, {
    mainCf: {
      virtual_mailbox_domains: 'vbox.example',
      virtual_mailbox_maps: 'inline:{ {u1@vbox.example = u1/Maildir/}, {u2@vbox.example = u2.mbox} }',
    },
  });
  if (!inst) return;
  inst.mail(['u1@vbox.example'], 'Subject: one\n\nx\n');
  inst.mail(['u2@vbox.example'], 'Subject: two\n\nx\n');
  inst.mail(['nobody@vbox.example'], 'Subject: three\n\nx\n');
  await inst.waitForLog(/to=<nobody@vbox\.example>.*status=bounced/);
  await inst.waitForQueueEmpty();
  const md = inst.readMaildir(join(inst.vmail, 'u1/Maildir'));
  assert.deepEqual(
    md.map((m) => header(m, 'Subject')),
    ['one'],
  );
  assert.equal(header(md[0]!, 'Delivered-To'), 'u1@vbox.example');
  const mb = inst.readMbox(join(inst.vmail, 'u2.mbox'));
  assert.deepEqual(
    mb.map((m) => header(m, 'Subject')),
    ['two'],
  );
  const st = statSync(join(inst.vmail, 'u2.mbox'));
  assert.equal(st.uid, statSync(inst.vmail).uid, 'owned as virtual_uid_maps says');
  const log = inst.log();
  assert.match(
    log,
    /postfix\/virtual\[\d+\]: \w+: to=<u1@vbox\.example>, relay=virtual, .*dsn=2\.0\.0, status=sent \(delivered to maildir\)/,
  );
  assert.match(
    log,
    /postfix\/virtual\[\d+\]: \w+: to=<u2@vbox\.example>, relay=virtual, .*dsn=2\.0\.0, status=sent \(delivered to mailbox\)/,
  );
  assert.match(
    log,
    /to=<nobody@vbox\.example>, relay=virtual, .*dsn=5\.1\.1, status=bounced \(unknown user: "nobody@vbox\.example"\)/,
  );
});

test('sendmail -t, sender_bcc_maps/recipient_bcc_maps, hopcount_limit', async (t) => {
  const inst = startInstance(t, {
    mainCf: {
      sender_bcc_maps: 'inline:{ {boss@example.org = prtest2} }',
      recipient_bcc_maps: 'inline:{ {prtest1@host.example.com = archive} }',
      hopcount_limit: '3',
    },
    aliases: (dir) => `postmaster: root\narchive: ${dir}/files/archive\n`,
  });
  if (!inst) return;
  // -t: recipients from To:/Cc:/Bcc:; the Bcc: header does not travel.
  inst.mail(['-t', '-f', 'boss@example.org'], 'To: prtest1\nBcc: prtestmta\nSubject: extracted\n\nx\n');
  const hops = 'Received: from a\nReceived: from b\nReceived: from c\nReceived: from d\n';
  inst.mail(['-f', 'prtest2', 'prtest1'], `${hops}Subject: looping around\n\nx\n`);
  const box = (path: string) => inst.readMbox(path.startsWith('/') ? path : join(inst.spool, path));
  const archive = join(inst.files, 'archive');
  const end = Date.now() + 30_000;
  while (
    box('prtest1').length < 1 ||
    box('prtest2').length < 2 ||
    box('prtestmta').length < 1 ||
    box(archive).length < 1
  ) {
    if (Date.now() > end) throw new Error(`mail missing\n${inst.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await inst.waitForQueueEmpty();
  const subjects = (p: string) => box(p).map((m) => header(m, 'Subject'));
  assert.deepEqual(subjects('prtest1'), ['extracted']);
  assert.equal(header(box('prtest1')[0]!, 'Bcc'), undefined);
  assert.deepEqual(subjects('prtestmta'), ['extracted']);
  assert.deepEqual(subjects(archive), ['extracted']);
  const log = inst.log();
  assert.match(log, /from=<boss@example\.org>, size=\d+, nrcpt=4 \(queue active\)/);
  // prtest2: the sender_bcc_maps copy, and the bounce of the message with too many hops.
  const two = box('prtest2');
  assert.ok(two.some((m) => header(m, 'Subject') === 'extracted'));
  const notice = two.find((m) => m.mime.type === 'multipart/report');
  assert.ok(notice, JSON.stringify(subjects('prtest2')));
  const rcpt = notice.mime.parts![1]!.blocks![1]!;
  assert.equal(rcpt.find(([k]) => k === 'Final-Recipient')?.[1], 'rfc822; prtest1@host.example.com');
  assert.equal(rcpt.find(([k]) => k === 'Status')?.[1], '5.4.0');
  assert.match(log, /warning: \w+: message rejected: hopcount exceeded/);
  assert.match(
    log,
    /to=<prtest1@host\.example\.com>, orig_to=<prtest1>, relay=none, .*dsn=5\.4\.0, status=bounced \(too many hops\)/,
  );
});

test('virtual_mailbox_limit: a message that would make the mbox too big bounces', async (t) => {
  const inst = startInstance(t, {
    mainCf: {
      virtual_mailbox_domains: 'vbox.example',
      virtual_mailbox_maps: 'inline:{ {small@vbox.example = small.mbox} }',
      // Postfix (and Postroom) refuse a mailbox limit below the message size limit; the
      // non-delivery notice (with the message) must fit message_size_limit too.
      virtual_mailbox_limit: '4000',
      message_size_limit: '4000',
    },
  });
  if (!inst) return;
  const big = (n: number) => `Subject: big ${n}\n\n${`${'z'.repeat(70)}\n`.repeat(12)}`;
  let sent = 0;
  for (const text of ['Subject: fits\n\nx\n', big(1), big(2)]) {
    inst.mail(['-f', 'prtest1', 'small@vbox.example'], text);
    sent++;
    await inst.waitForLog(
      new RegExp(`(?:to=<small@vbox\\.example>.*status=sent[^\\n]*\\n[\\s\\S]*){${sent}}`),
    );
  }
  inst.mail(['-f', 'prtest1', 'small@vbox.example'], big(3));
  await inst.waitForLog(/to=<small@vbox\.example>, relay=virtual, .*dsn=5\.2\.2, status=bounced/);
  await inst.waitForQueueEmpty();
  assert.deepEqual(
    inst.readMbox(join(inst.vmail, 'small.mbox')).map((m) => header(m, 'Subject')),
    ['fits', 'big 1', 'big 2'],
  );
  // The sender gets the notice.
  const [notice] = inst.readMbox(join(inst.spool, 'prtest1'));
  assert.equal(notice!.mime.parts![1]!.blocks![1]!.find(([k]) => k === 'Status')?.[1], '5.2.2');
});
