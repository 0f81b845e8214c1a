/*
 * Delivery status notifications (src/bounce/dsn_notice.ts), parsed back
 * with a real MIME parser (Python's email package, test/bounce/dsn_parse.py):
 * structure, every report field, RET=FULL/HDRS, bounce_size_limit, delay
 * and success notices, postmaster copies, header line limits and folding.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { composeNotice, type NoticeRequest, noticeSettings } from '../../src/bounce/dsn_notice.js';
import type { DsnMessage, DsnRecipient } from '../../src/bounce/dsn_types.js';
import { loadTemplates } from '../../src/bounce/template_load.js';
import { loadMainConfig } from '../../src/global/config.js';
import { DSN_RET_FULL, DSN_RET_HDRS } from '../../src/global/dsn.js';
import { configDir } from '../harness/index.js';
import { field, type Headers, type Part, parse } from './dsn_mime.js';

function setup(t: TestContext, extra = '') {
  const dir = configDir(t, `compatibility_level = 3.6\nmyhostname = mx.example.org\n${extra}`);
  const cfg = loadMainConfig({ configDir: dir });
  return { templates: loadTemplates(cfg), settings: noticeSettings(cfg) };
}

const ARRIVAL = new Date('2026-11-20T08:00:00Z');
const NOW = new Date('2026-11-20T09:30:00Z');

function message(over: Partial<DsnMessage> = {}): DsnMessage {
  return {
    queueId: '4XyZ1k2Lmnz',
    sender: 'alice@example.com',
    arrival: ARRIVAL,
    ret: 0,
    headers:
      'From: alice@example.com\nTo: bob@example.net\nSubject: lunch\n  on friday\nMessage-ID: <m1@example.com>\n',
    body: 'Shall we?\n\n-- \nalice\n',
    ...over,
  };
}

const BOB: DsnRecipient = {
  address: 'bob@example.net',
  original: 'bobby@example.net',
  action: 'failed',
  status: '5.1.1',
  reason:
    'host mx.example.net[192.0.2.7] said: 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)',
  diagnosticType: 'smtp',
  diagnostic: '550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown',
  remoteMta: 'mx.example.net',
};
const CAROL: DsnRecipient = {
  address: 'carol@example.net',
  action: 'failed',
  status: '5.2.2',
  reason: 'cannot update mailbox /var/mail/carol for user carol. error writing message: File too large',
  diagnosticType: 'X-Postfix',
  diagnostic: 'cannot update mailbox /var/mail/carol for user carol. error writing message: File too large',
};

/** Every raw line within 998 characters; every header section line is a field or a folded continuation. */
function checkLines(text: string): void {
  const lines = text.split('\n');
  for (const l of lines) assert.ok(l.length <= 998, `line of ${l.length}`);
  const top = lines.slice(0, lines.indexOf(''));
  for (const l of top) assert.match(l, /^([\x21-\x39\x3b-\x7e]+: |[ \t]\S)/);
  assert.ok(!top.some((l) => l.length > 78), 'top-level header lines within 78 columns');
}

function notice(t: TestContext, req: Partial<NoticeRequest>, extra = '') {
  const { templates, settings } = setup(t, extra);
  const n = composeNotice(templates, settings, {
    kind: 'failure',
    message: message(),
    recipients: [BOB, CAROL],
    now: NOW,
    ...req,
  });
  checkLines(n.text);
  const top = parse(n.text);
  assert.deepEqual(top.defects, []);
  return { n, top, templates };
}

test('a failure notice: headers, three parts, every report field', (t) => {
  const { n, top, templates } = notice(t, {});
  assert.equal(n.recipient, 'alice@example.com');
  const tpl = templates.get('failure');
  assert.equal(field(top.headers, 'From'), 'Mail Delivery System <MAILER-DAEMON@mx.example.org>');
  assert.equal(field(top.headers, 'To'), 'alice@example.com');
  assert.equal(field(top.headers, 'Subject'), tpl.subject);
  assert.equal(field(top.headers, 'Auto-Submitted'), 'auto-replied');
  assert.equal(field(top.headers, 'MIME-Version'), '1.0');
  assert.ok(field(top.headers, 'Date'));
  assert.equal(top.type, 'multipart/report');
  assert.deepEqual(top.params, { 'report-type': 'delivery-status', boundary: n.boundary });
  assert.equal(n.boundary, `4XyZ1k2Lmnz.${NOW.getTime() / 1000}/mx.example.org`);
  const parts = top.parts ?? [];
  assert.deepEqual(
    parts.map((p) => [p.type, field(p.headers, 'Content-Description')]),
    [
      ['text/plain', 'Notification'],
      ['message/delivery-status', 'Delivery report'],
      ['message/rfc822', 'Undelivered Message'],
    ],
  );
  for (const p of parts) assert.deepEqual(p.defects, []);
  const [human, report, original] = parts as [Part, Part, Part];
  assert.equal(human.params.charset, 'utf-8', 'smtputf8_enable = yes labels us-ascii templates utf-8');
  const text = human.text ?? '';
  assert.ok(text.startsWith(templates.expand('failure').join('\n')));
  assert.ok(text.includes('This report comes from the mail system at mx.example.org.'));
  assert.ok(
    text
      .replace(/\n {4}/g, ' ')
      .includes(`<bob@example.net> (expanded from <bobby@example.net>): ${BOB.reason}\n`),
  );
  assert.ok(text.includes('\n<carol@example.net>: cannot update mailbox'));
  for (const l of text.split('\n')) assert.ok(l.length <= 76, l);
  assert.match(text, /\n {4}\S/, 'long reasons wrap with a 4-space indent');

  const [msgFields, bob, carol] = report.blocks as [Headers, Headers, Headers];
  assert.equal(report.blocks?.length, 3);
  assert.deepEqual(msgFields.slice(0, 3), [
    ['Reporting-MTA', 'dns; mx.example.org'],
    ['X-Postfix-Queue-ID', '4XyZ1k2Lmnz'],
    ['X-Postfix-Sender', 'rfc822; alice@example.com'],
  ]);
  const arrival = field(msgFields, 'Arrival-Date') ?? '';
  assert.equal(Date.parse(arrival), ARRIVAL.getTime());
  const unfold = (v: string | undefined) => v?.replace(/\n[ \t]+/g, ' ');
  assert.deepEqual(
    bob.map(([k, v]) => [k, unfold(v)]),
    [
      ['Final-Recipient', 'rfc822; bob@example.net'],
      ['Original-Recipient', 'rfc822;bobby@example.net'],
      ['Action', 'failed'],
      ['Status', '5.1.1'],
      ['Remote-MTA', 'dns; mx.example.net'],
      ['Diagnostic-Code', `smtp; ${BOB.diagnostic}`],
    ],
  );
  assert.deepEqual(
    carol.map(([k, v]) => [k, unfold(v)]),
    [
      ['Final-Recipient', 'rfc822; carol@example.net'],
      ['Action', 'failed'],
      ['Status', '5.2.2'],
      ['Diagnostic-Code', `X-Postfix; ${CAROL.diagnostic}`],
    ],
  );
  const inner = original.message as Part;
  assert.equal(field(inner.headers, 'Return-Path'), '<alice@example.com>');
  assert.equal(field(inner.headers, 'Subject'), 'lunch\n  on friday');
  assert.equal(field(inner.headers, 'Message-ID'), '<m1@example.com>');
  assert.equal(inner.text, 'Shall we?\n\n-- \nalice\n');
});

test('RET=HDRS returns the header section as text/rfc822-headers', (t) => {
  const { top } = notice(t, { message: message({ ret: DSN_RET_HDRS }) });
  const last = top.parts?.[2] as Part;
  assert.equal(last.type, 'text/rfc822-headers');
  assert.equal(field(last.headers, 'Content-Description'), 'Undelivered Message Headers');
  assert.equal(last.text?.trimEnd(), `Return-Path: <alice@example.com>\n${message().headers}`.trimEnd());
  assert.ok(!last.text?.includes('Shall we?'));
});

test('bounce_size_limit: a larger message is returned as headers, never cut; size counts CRLF line ends', (t) => {
  const body = 'x'.repeat(70).concat('\n').repeat(20);
  const returnPath = 'Return-Path: <alice@example.com>\n';
  const whole = `${message().headers}\n${body}`;
  const size = whole.length + whole.split('\n').length - 1;
  const fits = notice(t, { message: message({ body }) }, `bounce_size_limit = ${size}\n`);
  assert.equal(fits.top.parts?.[2]?.type, 'message/rfc822');
  const over = notice(t, { message: message({ body }) }, `bounce_size_limit = ${size - 1}\n`);
  assert.equal(over.top.parts?.[2]?.type, 'text/rfc822-headers');
  assert.equal(over.top.parts?.[2]?.text?.trimEnd(), `${returnPath}${message().headers}`.trimEnd());
  // Postfix 3.7 returned a 2211-byte header section whole under bounce_size_limit = 1000.
  const tiny = notice(t, { message: message({ body }) }, 'bounce_size_limit = 10\n');
  assert.equal(tiny.top.parts?.[2]?.text?.trimEnd(), `${returnPath}${message().headers}`.trimEnd());
  // Measured with Postfix 3.7, bounce_size_limit = 1000: qmgr size=999 came back whole, size=1001 as headers.
  const limit = 'bounce_size_limit = 1000\n';
  assert.equal(notice(t, { message: message({ size: 999 }) }, limit).top.parts?.[2]?.type, 'message/rfc822');
  assert.equal(
    notice(t, { message: message({ size: 1001 }) }, limit).top.parts?.[2]?.type,
    'text/rfc822-headers',
  );
});

test('a delay notice: Action delayed, Will-Retry-Until, headers only even with RET=FULL', (t) => {
  const until = new Date('2026-11-25T08:00:00Z');
  const delayed: DsnRecipient = {
    address: 'dave@example.net',
    action: 'delayed',
    status: '4.4.1',
    reason: 'connect to mx.example.net[192.0.2.7]:25: Connection timed out',
    diagnosticType: 'X-Postfix',
    diagnostic: 'connect to mx.example.net[192.0.2.7]:25: Connection timed out',
    lastAttempt: NOW,
  };
  const { top, templates } = notice(t, {
    kind: 'delay',
    recipients: [delayed],
    willRetryUntil: until,
    message: message({ ret: DSN_RET_FULL }),
  });
  assert.equal(field(top.headers, 'Subject'), templates.get('delay').subject);
  const [, report, last] = top.parts as [Part, Part, Part];
  const rcpt = report.blocks?.[1] as Headers;
  assert.equal(field(rcpt, 'Action'), 'delayed');
  assert.equal(field(rcpt, 'Status'), '4.4.1');
  assert.equal(Date.parse(field(rcpt, 'Will-Retry-Until') ?? ''), until.getTime());
  assert.equal(Date.parse(field(rcpt, 'Last-Attempt-Date') ?? ''), NOW.getTime());
  assert.equal(last.type, 'text/rfc822-headers');
  assert.equal(field(last.headers, 'Content-Description'), 'Undelivered Message Headers');
});

test('a success notice: Action delivered; headers unless RET=FULL', (t) => {
  const ok: DsnRecipient = {
    address: 'erin@example.net',
    action: 'delivered',
    status: '2.0.0',
    reason: 'delivered to mailbox',
    diagnosticType: 'X-Postfix',
    diagnostic: 'delivered to mailbox',
  };
  const hdrs = notice(t, { kind: 'success', recipients: [ok] });
  assert.equal(field(hdrs.top.headers, 'Subject'), hdrs.templates.get('success').subject);
  assert.equal(field(hdrs.top.parts?.[1]?.blocks?.[1] ?? [], 'Action'), 'delivered');
  assert.equal(field(hdrs.top.parts?.[1]?.blocks?.[1] ?? [], 'Status'), '2.0.0');
  assert.equal(hdrs.top.parts?.[2]?.type, 'text/rfc822-headers');
  const full = notice(t, { kind: 'success', recipients: [ok], message: message({ ret: DSN_RET_FULL }) });
  assert.equal(full.top.parts?.[2]?.type, 'message/rfc822');
  assert.equal(field(full.top.parts?.[2]?.headers ?? [], 'Content-Description'), 'Message');
});

test('a postmaster copy: Postmaster-Subject, sent to the notice recipient, headers only', (t) => {
  const { n, top, templates } = notice(t, { postmaster: true, to: 'postmaster' });
  assert.equal(n.recipient, 'postmaster');
  assert.equal(field(top.headers, 'To'), 'postmaster');
  assert.equal(field(top.headers, 'Subject'), templates.get('failure').postmasterSubject);
  assert.equal(top.parts?.[2]?.type, 'text/rfc822-headers');
});

test('long values fold within 78 columns; an unbreakable word stays within 998', (t) => {
  const long: DsnRecipient = {
    ...CAROL,
    diagnostic: `${'word '.repeat(60)}${'y'.repeat(1500)}`,
    reason: 'z'.repeat(1200),
  };
  const { n, top } = notice(t, { recipients: [long], message: message({ envId: 'E'.repeat(100) }) });
  const lines = n.text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Diagnostic-Code: X-Postfix; word word'));
  assert.ok(start > 0, 'first Diagnostic-Code line');
  let end = start + 1;
  while (lines[end]?.startsWith('\t')) end++;
  const folded = lines.slice(start, end);
  assert.ok(folded.length >= 6, 'folded into several lines');
  assert.ok(folded.every((l) => l.length <= 998));
  assert.ok(folded.filter((l) => !l.includes('y')).every((l) => l.length <= 78));
  const report = top.parts?.[1]?.blocks as Headers[];
  assert.equal(field(report[0] as Headers, 'Original-Envelope-Id'), 'E'.repeat(100));
  const diag = field(report[1] as Headers, 'Diagnostic-Code') ?? '';
  assert.equal(diag.replace(/\s+/g, ''), `X-Postfix;${'word'.repeat(60)}${'y'.repeat(1500)}`);
});

test('8-bit content is declared 8bit; with SMTPUTF8 the global types are used', (t) => {
  const body = 'Grüße aus Köln\n';
  const plain = notice(t, { message: message({ body }) });
  assert.equal(field(plain.top.headers, 'Content-Transfer-Encoding'), '8bit');
  assert.equal(plain.top.parts?.[2]?.type, 'message/rfc822');
  assert.equal(plain.top.parts?.[2]?.message?.text, body);
  const utf8 = notice(t, { message: message({ body, smtputf8: true, sender: 'jörg@example.de' }) });
  assert.equal(utf8.n.recipient, 'jörg@example.de');
  assert.deepEqual(
    utf8.top.parts?.map((p) => p.type),
    ['text/plain', 'message/global-delivery-status', 'message/global'],
  );
});

test('the boundary does not occur in the content; bad input is refused', (t) => {
  const { templates, settings } = setup(t);
  const boundary = `4XyZ1k2Lmnz.${NOW.getTime() / 1000}/mx.example.org`;
  const n = composeNotice(templates, settings, {
    kind: 'failure',
    message: message({ body: `--${boundary}\n` }),
    recipients: [CAROL],
    now: NOW,
  });
  assert.equal(n.boundary, `${boundary}.1`);
  // A header section without its final newline still ends before the body.
  const bare = composeNotice(templates, settings, {
    kind: 'failure',
    message: message({ headers: 'Subject: hi', body: 'text\n' }),
    recipients: [CAROL],
    now: NOW,
  });
  const returned = parse(bare.text).parts?.[2]?.message;
  assert.equal(field(returned?.headers ?? [], 'Subject'), 'hi');
  assert.equal(returned?.text, 'text\n');
  assert.equal(parse(n.text).parts?.length, 3);
  const req = { kind: 'failure' as const, message: message(), recipients: [CAROL], now: NOW };
  assert.throws(
    () => composeNotice(templates, settings, { ...req, message: message({ sender: '' }) }),
    /null/,
  );
  assert.throws(
    () => composeNotice(templates, settings, { ...req, recipients: [{ ...CAROL, status: '5.2' }] }),
    /invalid DSN status/,
  );
});
