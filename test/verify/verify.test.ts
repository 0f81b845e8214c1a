/*
 * sendmail -bv (address verification report) and sendmail -v (delivery
 * report) through a whole instance, compared with Postfix 3.7's own run
 * of the same commands (test/golden/verify/record.sh): the log lines of
 * the probe and of the recorded delivery, the reports the sender gets
 * (parsed with Python's email package), and that a probe delivers
 * nothing: no mailbox, file or maildir written, no command run, no
 * message forwarded.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import { postfixCommand, ROOT, run, tempDir } from '../harness/index.js';
import {
  account,
  header,
  type Instance,
  type MailMessage,
  type MimePart,
  sleep,
  startInstance,
} from '../harness/instance.js';

const GOLDEN = join(ROOT, 'test/golden/verify');
const golden = (name: string) => readFileSync(join(GOLDEN, name), 'utf8');
/** The private instance's directory in the recording. */
const THEIR_DIR = /\/tmp\/pfgold\.\w+/g;

/** Postfix's recording, in our instance's words: host name and directory. */
function ours(text: string, inst: Instance): string {
  return text.replaceAll('mx.example.com', inst.myhostname).replace(THEIR_DIR, inst.dir);
}

/** The queue IDs of the messages pickup took, in order. */
function pickedUp(log: string): string[] {
  return [...log.matchAll(/postfix\/pickup\[\d+\]: (\w+): uid=/g)].map((m) => m[1] as string);
}

/** "program: to=<..>, orig_to=<..>, relay=.., dsn=.., status=.. (text)" of one message, sorted (agents run in parallel). */
function deliveries(log: string, id: string): string[] {
  const out: string[] = [];
  const re = new RegExp(
    `postfix/(\\w+)\\[\\d+\\]: ${id}: (to=<[^>]*>(?:, orig_to=<[^>]*>)?, relay=[^,]+), delay=[^,]+, delays=[^,]+, (dsn=.*)$`,
    'gm',
  );
  for (const m of log.matchAll(re)) out.push(`${m[1]}: ${m[2]}, ${m[3]}`);
  return out.sort();
}

async function mailFor(inst: Instance, user: string, n: number): Promise<MailMessage[]> {
  const end = Date.now() + 20_000;
  for (;;) {
    const box = inst.readMbox(join(inst.spool, user));
    if (box.length >= n) return box;
    if (Date.now() > end) throw new Error(`${box.length} of ${n} messages for ${user}\n${inst.log()}`);
    await sleep(100);
  }
}

const field = (block: [string, string][], name: string) =>
  block.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]?.replace(/\s+/g, ' ');

/** Each recipient block of a report, as "Final-Recipient | Action | Status | Diagnostic-Code", sorted. */
function recipientBlocks(m: MailMessage): string[] {
  const status = m.mime.parts?.[1] as MimePart;
  assert.equal(status.type, 'message/delivery-status');
  return (status.blocks ?? [])
    .slice(1)
    .map((b) =>
      ['Final-Recipient', 'Action', 'Status', 'Diagnostic-Code'].map((f) => field(b, f)).join(' | '),
    )
    .sort();
}

function isReport(m: MailMessage): boolean {
  return header(m, 'Subject') === DEFAULT_TEMPLATES.verify.subject;
}

/** The report's structure, as Postfix's: multipart/report, the notice, the delivery status, the headers only. */
function checkReport(m: MailMessage, inst: Instance, to: string): void {
  assert.equal(header(m, 'Return-Path'), '<>');
  assert.equal(header(m, 'From'), `Mail Delivery System <MAILER-DAEMON@${inst.myhostname}>`);
  assert.equal(header(m, 'To'), `${to}@${inst.myhostname}`);
  assert.equal(header(m, 'Auto-Submitted'), 'auto-replied');
  assert.equal(m.mime.type, 'multipart/report');
  assert.equal(m.mime.params['report-type'], 'delivery-status');
  assert.deepEqual(m.mime.defects, []);
  const parts = m.mime.parts ?? [];
  assert.deepEqual(
    parts.map((p) => p.type),
    ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
  );
  const text = parts[0]?.text ?? '';
  // The wording of the built-in templates is Postroom's own (docs/bounce.md).
  assert.ok(
    text.startsWith(DEFAULT_TEMPLATES.verify.text[0]?.replace('$myhostname', inst.myhostname) ?? '?'),
  );
}

const ALIASES = (dir: string) =>
  [
    'postmaster: root',
    'list: prtest1, tocmd',
    `tofile: ${dir}/files/tofile.mbox`,
    `tomaildir: ${dir}/files/md/`,
    `tocmd: "|cat > ${dir}/files/cmd.out"`,
    'away: elsewhere@example.net',
    '',
  ].join('\n');

test('sendmail -bv and -v as Postfix 3.7: log lines, reports, nothing delivered by a probe', async (t) => {
  if (!account(t, 'prtest1') || !account(t, 'prtest2')) return;
  const inst = startInstance(t, {
    aliases: ALIASES,
    mainCf: {
      default_transport: 'error:no remote mail in this test',
      allow_mail_to_files: 'alias, forward, include',
    },
  });
  if (!inst) return;
  const theirLog = golden('maillog.txt');
  const [bvId, vId, bv2Id] = pickedUp(theirLog) as [string, string, string];
  // The recording holds what the comparisons below rest on.
  assert.deepEqual(
    [bvId, vId, bv2Id].map((id) => deliveries(theirLog, id).length),
    [8, 3, 2],
  );

  // 1. sendmail -bv: every kind of local destination, an unknown user, a remote address.
  const bv = inst.sendmail(
    [
      '-bv',
      '-f',
      'prtest2',
      'prtest1',
      'tocmd',
      'tofile',
      'tomaildir',
      'list',
      'nosuchuser',
      'remote@example.net',
    ],
    'this is never read\n',
  );
  assert.deepEqual(
    [bv.stdout, bv.stderr, `${bv.status}\n`],
    [golden('bv.out'), golden('bv.err'), golden('bv.status')],
  );
  const [report] = await mailFor(inst, 'prtest2', 1);
  await inst.waitForQueueEmpty();
  let log = inst.log();
  const [myBv] = pickedUp(log) as [string];
  assert.deepEqual(deliveries(log, myBv), deliveries(ours(theirLog, inst), bvId));
  assert.match(log, new RegExp(`bounce\\[\\d+\\]: ${myBv}: sender delivery status notification: \\w+`));
  assert.match(log, new RegExp(`qmgr\\[\\d+\\]: ${myBv}: removed`));
  // Nothing was delivered: no mailbox, no file, no maildir, no command output.
  assert.equal(existsSync(join(inst.spool, 'prtest1')), false);
  assert.deepEqual(readdirSync(inst.files), []);

  const theirs = inst.readMbox(join(GOLDEN, 'spool-prtest2.txt'));
  const theirReport = theirs[0] as MailMessage;
  checkReport(report as MailMessage, inst, 'prtest2');
  assert.deepEqual(
    recipientBlocks(report as MailMessage),
    recipientBlocks(theirReport).map((b) => ours(b, inst)),
  );
  // The probe's own header, returned: what was asked, by whom.
  const returned = (report as MailMessage).mime.parts?.[2]?.text ?? '';
  assert.match(returned, /^Subject: probe$/m);
  assert.match(returned, new RegExp(`^From: prtest2@${inst.myhostname}$`, 'm'));

  // 2. sendmail -v: a normal delivery, and a report of every recipient.
  const v = inst.sendmail(
    ['-v', '-f', 'prtest2', 'prtest1', 'tofile', 'nosuchuser'],
    'Subject: record me\n\nbody\n',
  );
  assert.deepEqual(
    [v.stdout, v.stderr, `${v.status}\n`],
    [golden('v.out'), golden('v.err'), golden('v.status')],
  );
  const box = await mailFor(inst, 'prtest2', 3);
  await inst.waitForQueueEmpty();
  log = inst.log();
  const myV = pickedUp(log)[1] as string;
  assert.deepEqual(deliveries(log, myV), deliveries(ours(theirLog, inst), vId));
  assert.equal(inst.readMbox(join(inst.spool, 'prtest1')).length, 1);
  assert.match(readFileSync(join(inst.files, 'tofile.mbox'), 'utf8'), /^Subject: record me$/m);
  const vReport = box.slice(1).find(isReport);
  const bounce = box.slice(1).find((m) => !isReport(m));
  assert.ok(vReport && bounce, box.map((m) => header(m, 'Subject')).join(', '));
  assert.equal(header(bounce, 'Subject'), DEFAULT_TEMPLATES.failure.subject);
  checkReport(vReport, inst, 'prtest2');
  const theirV = theirs
    .slice(1)
    .find((m) => header(m, 'Subject') === 'Mail Delivery Status Report') as MailMessage;
  assert.deepEqual(
    recipientBlocks(vReport),
    recipientBlocks(theirV).map((b) => ours(b, inst)),
  );

  // 3. sendmail -bv of a remote alias and a user with a .forward: "forwards to", nothing re-submitted.
  const fwd = join(inst.forward, 'prtest2');
  writeFileSync(fwd, 'prtest1\n');
  inst.own(fwd, account(t, 'prtest2')!);
  const bv2 = inst.sendmail(['-bv', '-f', 'prtest1', 'away', 'prtest2'], '');
  assert.deepEqual(
    [bv2.stdout, bv2.stderr, `${bv2.status}\n`],
    [golden('bv2.out'), golden('bv2.err'), golden('bv2.status')],
  );
  const p1 = await mailFor(inst, 'prtest1', 2);
  await inst.waitForQueueEmpty();
  log = inst.log();
  const myBv2 = pickedUp(log)[2] as string;
  assert.deepEqual(deliveries(log, myBv2), deliveries(ours(theirLog, inst), bv2Id));
  assert.doesNotMatch(log, /forwarded as/);
  assert.equal(pickedUp(log).length, 3);
  checkReport(p1[1] as MailMessage, inst, 'prtest1');
  const theirBv2 = inst
    .readMbox(join(GOLDEN, 'spool-prtest1.txt'))
    .find(isReportOf('Mail Delivery Status Report'));
  assert.ok(theirBv2);
  assert.deepEqual(
    recipientBlocks(p1[1] as MailMessage),
    recipientBlocks(theirBv2).map((b) => ours(b, inst)),
  );
});

const isReportOf = (subject: string) => (m: MailMessage) => header(m, 'Subject') === subject;

test('sendmail -v reports the first delivery attempt only: a deferred recipient is "delayed" there, and not reported again', async (t) => {
  if (!account(t, 'prtest1') || !account(t, 'prtest2')) return;
  const inst = startInstance(t, { aliases: 'postmaster: root\nstuck: "|exit 75"\n' });
  if (!inst) return;
  const r = inst.sendmail(['-v', '-f', 'prtest2', 'stuck', 'prtest1'], 'Subject: slow\n\nbody\n');
  assert.equal(r.status, 0, r.stderr);
  const [report] = await mailFor(inst, 'prtest2', 1);
  checkReport(report as MailMessage, inst, 'prtest2');
  assert.deepEqual(recipientBlocks(report as MailMessage), [
    `rfc822; prtest1@${inst.myhostname} | delivered | 2.0.0 | X-Postfix; delivery via local: delivered to mailbox`,
    `rfc822; stuck@${inst.myhostname} | delayed | 4.3.0 | X-Postfix; delivery via local: temporary failure`,
  ]);
  const id = pickedUp(inst.log())[0] as string;
  const deferred = new RegExp(`${id}: to=<stuck@[^>]+>, .*status=deferred`, 'g');
  // The next attempt (minimal_backoff_time = 1s) defers again, records nothing and sends no report.
  await inst.waitForLog(new RegExp(`(${deferred.source}[^]*){2}`));
  await sleep(500);
  const log = inst.log();
  assert.equal(log.match(new RegExp(`${id}: sender delivery status notification`, 'g'))?.length, 1, log);
  assert.equal(inst.readMbox(join(inst.spool, 'prtest2')).length, 1);
  assert.equal(inst.readMbox(join(inst.spool, 'prtest1')).length, 1);
});

test('live: Postfix 3.7 still does what the recording holds (record.sh on a private instance)', async (t) => {
  const postfix = postfixCommand(t, 'postfix');
  if (postfix === null) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/unshare')) {
    t.skip('needs root and unshare(1) for a private Postfix instance');
    return;
  }
  if (!account(t, 'prtest1') || !account(t, 'prtest2')) return;
  const out = tempDir(t);
  const r = run('sh', [join(GOLDEN, 'record.sh'), out], { timeoutMs: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').replace(THEIR_DIR, 'DIR');
  for (const f of [
    'bv.out',
    'bv.err',
    'bv.status',
    'v.out',
    'v.err',
    'v.status',
    'bv2.out',
    'bv2.err',
    'bv2.status',
  ])
    assert.equal(read(out, f), read(GOLDEN, f), f);
  const live = read(out, 'maillog.txt');
  const recorded = read(GOLDEN, 'maillog.txt');
  const [a, b] = [pickedUp(live), pickedUp(recorded)];
  assert.equal(a.length, 3);
  for (let i = 0; i < 3; i++)
    assert.deepEqual(deliveries(live, a[i] as string), deliveries(recorded, b[i] as string));
});
