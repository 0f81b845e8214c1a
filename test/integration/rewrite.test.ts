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
    },
  });
  if (!inst) return;
  const send = (from: string, to: string, subject: string) =>
    inst.mail(['-f', from, to], `Subject: ${subject}\n\nx\n`);
  send('someone@example.org', 'sales@virt.example', 'virtual');
  send('olduser', 'info', 'canonical');
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
