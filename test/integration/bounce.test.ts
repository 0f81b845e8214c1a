/*
 * Notices through the whole system, parsed with Python's email package:
 * a non-delivery notice (every DSN field), a delay warning
 * (delay_warning_time) and the bounce of an expired message
 * (maximal_queue_lifetime).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import {
  header,
  type Instance,
  type MailMessage,
  type MimePart,
  sleep,
  startInstance,
} from '../harness/instance.js';

const field = (block: [string, string][], name: string) =>
  block.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

async function notices(inst: Instance, user: string, n: number): Promise<MailMessage[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const box = inst.readMbox(join(inst.spool, user));
    if (box.length >= n) return box;
    if (Date.now() > end) throw new Error(`${box.length} of ${n} notices for ${user}\n${inst.log()}`);
    await sleep(100);
  }
}

/** The three parts of a multipart/report: notification text, delivery-status, the message or its headers. */
function reportParts(m: MailMessage): [MimePart, MimePart, MimePart] {
  assert.equal(m.mime.type, 'multipart/report');
  assert.equal(m.mime.params['report-type'], 'delivery-status');
  assert.deepEqual(m.mime.defects, []);
  const parts = m.mime.parts!;
  assert.equal(parts.length, 3);
  return parts as [MimePart, MimePart, MimePart];
}

test('non-delivery notice: multipart/report with every DSN field', async (t) => {
  const inst = startInstance(t);
  if (!inst) return;
  const r = inst.sendmail(['-f', 'prtest1', 'nosuchuser'], 'Subject: lost\nX-Mark: original\n\nwhere am I\n');
  assert.equal(r.status, 0, r.stderr);
  const [m] = await notices(inst, 'prtest1', 1);
  await inst.waitForQueueEmpty();
  const log = inst.log();
  const id =
    /(\w+): to=<nosuchuser@host\.example\.com>, orig_to=<nosuchuser>, relay=local, .*dsn=5\.1\.1, status=bounced \(unknown user: "nosuchuser"\)/.exec(
      log,
    )?.[1];
  assert.ok(id, log);
  const nid = new RegExp(`${id}: sender non-delivery notification: (\\w+)`).exec(log)?.[1];
  assert.ok(nid, log);
  assert.match(log, new RegExp(`${nid}: from=<>, size=\\d+, nrcpt=1 \\(queue active\\)`));

  // As recorded from Postfix 3.7 (test/golden/bounce): null sender, the template's From.
  assert.equal(header(m!, 'Return-Path'), '<>');
  assert.match(m!.fromLine!, /^From MAILER-DAEMON /);
  assert.equal(header(m!, 'From'), 'Mail Delivery System <MAILER-DAEMON@host.example.com>');
  assert.equal(header(m!, 'To'), 'prtest1@host.example.com');
  // The wording of the built-in templates is Postroom's own (docs/bounce.md).
  assert.equal(header(m!, 'Subject'), DEFAULT_TEMPLATES.failure.subject);
  assert.equal(header(m!, 'Auto-Submitted'), 'auto-replied');
  assert.equal(header(m!, 'MIME-Version'), '1.0');
  assert.match(header(m!, 'Message-Id') ?? '', new RegExp(`^<\\d+\\.${nid}@host\\.example\\.com>$`));
  const [text, status, orig] = reportParts(m!);
  assert.equal(text.type, 'text/plain');
  assert.equal(field(text.headers, 'Content-Description'), 'Notification');
  assert.ok(
    text.text!.startsWith(
      `${DEFAULT_TEMPLATES.failure.text[0]!.replace('$myhostname', 'host.example.com')}\n`,
    ),
  );
  assert.match(
    text.text!,
    /^<nosuchuser@host\.example\.com> \(expanded from <nosuchuser>\): unknown user:\n {4}"nosuchuser"$/m,
  );

  assert.equal(status.type, 'message/delivery-status');
  assert.equal(field(status.headers, 'Content-Description'), 'Delivery report');
  const [msgBlock, rcptBlock, ...rest] = status.blocks!;
  assert.equal(rest.length, 0);
  assert.equal(field(msgBlock!, 'Reporting-MTA'), 'dns; host.example.com');
  assert.equal(field(msgBlock!, 'X-Postfix-Queue-ID'), id);
  assert.equal(field(msgBlock!, 'X-Postfix-Sender'), 'rfc822; prtest1@host.example.com');
  assert.match(
    field(msgBlock!, 'Arrival-Date') ?? '',
    /^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)$/,
  );
  assert.equal(field(rcptBlock!, 'Final-Recipient'), 'rfc822; nosuchuser@host.example.com');
  // As Postfix: the sender typed "nosuchuser"; the DSN original recipient is its canonical form.
  assert.equal(field(rcptBlock!, 'Original-Recipient'), 'rfc822;nosuchuser@host.example.com');
  assert.equal(field(rcptBlock!, 'Action'), 'failed');
  assert.equal(field(rcptBlock!, 'Status'), '5.1.1');
  assert.equal(field(rcptBlock!, 'Diagnostic-Code'), 'X-Postfix; unknown user: "nosuchuser"');

  assert.equal(orig.type, 'message/rfc822');
  assert.equal(field(orig.headers, 'Content-Description'), 'Undelivered Message');
  assert.equal(field(orig.message!.headers, 'Subject'), 'lost');
  assert.equal(field(orig.message!.headers, 'X-Mark'), 'original');
  assert.match(orig.message!.text!, /^where am I$/m);
});

test('delay warning after delay_warning_time, then expiry after maximal_queue_lifetime', async (t) => {
  const inst = startInstance(t, {
    mainCf: { delay_warning_time: '1s', maximal_queue_lifetime: '4s', bounce_queue_lifetime: '4s' },
    aliases: 'postmaster: root\nstuck: "|exit 75"\n',
  });
  if (!inst) return;
  inst.mail(['-f', 'prtest2', 'stuck'], 'Subject: slow\n\nx\n');
  const box = await notices(inst, 'prtest2', 2);
  await inst.waitForQueueEmpty();
  const [warn, bounce] = box;
  const log = inst.log();
  const id =
    /(\w+): to=<stuck@host\.example\.com>, orig_to=<stuck>, relay=local, .*dsn=4\.3\.0, status=deferred/.exec(
      log,
    )?.[1];
  assert.ok(id, log);
  assert.match(log, new RegExp(`${id}: sender delay notification: \\w+`));
  assert.match(
    log,
    new RegExp(`${id}: from=<prtest2@host\\.example\\.com>, status=expired, returned to sender`),
  );
  assert.match(log, new RegExp(`${id}: sender non-delivery notification: \\w+`));

  assert.equal(header(warn!, 'Subject'), DEFAULT_TEMPLATES.delay.subject);
  const [wText, wStatus, wOrig] = reportParts(warn!);
  assert.match(wText.text!, /DO NOT SEND YOUR MESSAGE AGAIN/);
  assert.match(wText.text!, /^<stuck@host\.example\.com> \(expanded from <stuck>\): temporary failure$/m);
  const wRcpt = wStatus.blocks![1]!;
  assert.equal(field(wRcpt, 'Action'), 'delayed');
  assert.equal(field(wRcpt, 'Status'), '4.3.0');
  assert.match(
    field(wRcpt, 'Will-Retry-Until') ?? '',
    /^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)$/,
  );
  // A delay warning carries the headers only.
  assert.equal(wOrig.type, 'text/rfc822-headers');
  assert.match(wOrig.text!, /^Subject: slow$/m);

  assert.equal(header(bounce!, 'Subject'), DEFAULT_TEMPLATES.failure.subject);
  const [, bStatus] = reportParts(bounce!);
  const bRcpt = bStatus.blocks![1]!;
  assert.equal(field(bRcpt, 'Action'), 'failed');
  assert.equal(field(bRcpt, 'Status'), '4.3.0');
  assert.equal(field(bRcpt, 'Final-Recipient'), 'rfc822; stuck@host.example.com');
});

test('no bounce of a bounce: a notice that cannot be delivered goes to the postmaster as a double bounce', async (t) => {
  // notify_classes must name 2bounce: by default (resource, software) a bounced bounce is dropped.
  const inst = startInstance(t, {
    aliases: 'postmaster: prtest2\n',
    mainCf: { notify_classes: 'resource, software, 2bounce' },
  });
  if (!inst) return;
  inst.mail(['-f', 'ghost', 'nobodyhere'], 'Subject: doomed\n\nx\n');
  const [m] = await notices(inst, 'prtest2', 1);
  await inst.waitForQueueEmpty();
  const log = inst.log();
  // The notice to ghost bounces in turn; no third notice goes to the null sender.
  assert.match(log, /to=<nobodyhere@host\.example\.com>, orig_to=<nobodyhere>, .*status=bounced/);
  assert.match(log, /: sender non-delivery notification: \w+/);
  assert.match(log, /to=<ghost@host\.example\.com>, relay=local, .*status=bounced \(unknown user: "ghost"\)/);
  assert.match(log, /: postmaster non-delivery notification: \w+/);
  assert.match(log, /from=<double-bounce@host\.example\.com>, size=\d+, nrcpt=1 \(queue active\)/);
  assert.equal(header(m!, 'To'), 'postmaster@host.example.com');
  const [, status] = reportParts(m!);
  assert.equal(field(status.blocks![1]!, 'Final-Recipient'), 'rfc822; ghost@host.example.com');
  assert.equal(field(status.blocks![1]!, 'Action'), 'failed');
  await sleep(500);
  assert.equal(inst.readMbox(join(inst.spool, 'prtest2')).length, 1);
});
