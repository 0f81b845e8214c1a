/*
 * header_checks, mime_header_checks, nested_header_checks and body_checks
 * through real pcre and regexp tables on disk: which table sees which
 * line, every action's effect (header_checks(5)), lookups that fail, and
 * MIME errors under the strict_* parameters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChecks } from './run_checks.js';

const ALL_TABLES =
  'header_checks = pcre:$DIR/h.pcre\nmime_header_checks = pcre:$DIR/m.pcre\n' +
  'nested_header_checks = regexp:$DIR/n.regexp\nbody_checks = pcre:$DIR/b.pcre\n';
const WHO = {
  'h.pcre': '/^(.*)$/ WARN header_checks $1\n',
  'm.pcre': '/^(.*)$/ WARN mime_header_checks $1\n',
  'n.regexp': '/^(.*)$/ WARN nested_header_checks $1\n',
  'b.pcre': '/^(.*)$/ WARN body_checks $1\n',
};

const MESSAGE = [
  'From: a@example.com',
  'Subject: folded',
  ' second line',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary=XX',
  '',
  'preamble',
  '--XX',
  'Content-Type: text/plain',
  '',
  'part text',
  '--XX',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  '',
  'inner text',
  '--XX--',
  '',
].join('\n');

test('each header class goes to its own table; body lines to body_checks', async (t) => {
  const r = await runChecks(t, ALL_TABLES, WHO, MESSAGE);
  assert.deepEqual(
    r.outcome.events.map((e) => `${e.context}: ${e.text}`),
    [
      'header: header_checks From: a@example.com',
      // The lookup key is the whole logical header (Postfix's pcre matches it so too).
      'header: header_checks Subject: folded\n second line',
      'header: mime_header_checks MIME-Version: 1.0',
      'header: mime_header_checks Content-Type: multipart/mixed; boundary=XX',
      'body: body_checks preamble',
      'body: body_checks --XX',
      'header: mime_header_checks Content-Type: text/plain',
      'body: body_checks part text',
      'body: body_checks --XX',
      'header: mime_header_checks Content-Type: message/rfc822',
      'header: nested_header_checks Subject: inner',
      'body: body_checks inner text',
      'body: body_checks --XX--',
    ],
  );
  assert.equal(r.outcome.events[1]!.line, 'Subject: folded\n second line');
  assert.ok(r.outcome.events.every((e) => e.action === 'warning'));
  // WARN changes nothing: the output is the input, header end marked once.
  assert.equal(r.output.filter((l) => l === 'END').length, 1);
  assert.equal(r.output.length, MESSAGE.split('\n').length - 1 - 1 + 1);
  assert.equal(r.outcome.reject, undefined);
});

test('mime and nested checks default to header_checks; an empty setting turns them off', async (t) => {
  const r1 = await runChecks(t, 'header_checks = pcre:$DIR/h.pcre\n', WHO, MESSAGE);
  assert.equal(r1.outcome.events.length, 7);
  assert.ok(r1.outcome.events.every((e) => e.text.startsWith('header_checks ')));
  const r2 = await runChecks(
    t,
    'header_checks = pcre:$DIR/h.pcre\nmime_header_checks =\nnested_header_checks =\n',
    WHO,
    MESSAGE,
  );
  assert.deepEqual(
    r2.outcome.events.map((e) => e.line),
    ['From: a@example.com', 'Subject: folded\n second line'],
  );
});

test('disable_mime_input_processing: part and nested headers are body lines', async (t) => {
  const r = await runChecks(t, `${ALL_TABLES}disable_mime_input_processing = yes\n`, WHO, MESSAGE);
  const body = r.outcome.events.filter((e) => e.context === 'body').map((e) => e.line);
  assert.ok(body.includes('Content-Type: text/plain'));
  assert.ok(body.includes('Subject: inner'));
  assert.ok(!r.outcome.events.some((e) => e.text.startsWith('nested_header_checks')));
});

const ONE = 'header_checks = pcre:$DIR/h.pcre\nbody_checks = regexp:$DIR/b.regexp\n';
/** Both tables of ONE exist (a missing one would defer the message). */
const both = (tables: Record<string, string>) => ({ 'h.pcre': '', 'b.regexp': '', ...tables });
const SIMPLE = 'From: a@example.com\nSubject: buy now\nX-Spam: yes\n\nhello\nbad word here\nbye\n';

test('REJECT: default text and 5.7.1, the table own status code, inspection stops', async (t) => {
  let r = await runChecks(t, ONE, both({ 'h.pcre': '/^Subject:/ REJECT\n/^X-Spam/ HOLD\n' }), SIMPLE);
  assert.equal(r.outcome.reject, '5.7.1 message content rejected');
  assert.equal(r.outcome.hold, undefined, 'no header after REJECT is inspected');
  r = await runChecks(t, ONE, both({ 'h.pcre': '/^Subject:/ reject No spam please\n' }), SIMPLE);
  assert.equal(r.outcome.reject, '5.7.1 No spam please');
  r = await runChecks(t, ONE, both({ 'h.pcre': '/^Subject:/ REJECT 4.7.0 try later\n' }), SIMPLE);
  assert.equal(r.outcome.reject, '4.7.0 try later');
  r = await runChecks(t, ONE, both({ 'b.regexp': '/bad word/ REJECT 5.7.9 Bad content\n' }), SIMPLE);
  assert.equal(r.outcome.reject, '5.7.9 Bad content');
  assert.deepEqual(r.outcome.events, [
    { action: 'reject', context: 'body', line: 'bad word here', text: '5.7.9 Bad content' },
  ]);
});

test('DISCARD stops inspection; HOLD, FILTER, REDIRECT continue and the last one wins', async (t) => {
  let r = await runChecks(t, ONE, both({ 'h.pcre': '/^Subject:/ DISCARD spam\n/^X-Spam/ HOLD\n' }), SIMPLE);
  assert.equal(r.outcome.discard, 'spam');
  assert.equal(r.outcome.hold, undefined);
  r = await runChecks(
    t,
    ONE,
    {
      'h.pcre':
        '/^From:/ FILTER smtp:[127.0.0.1]:10025\n/^Subject:/ REDIRECT x@example.net\n/^X-Spam/ HOLD looks bad\n',
      'b.regexp': '/^hello/ FILTER lmtp:unix:/x\n/^bye/ REDIRECT y@example.net\n',
    },
    SIMPLE,
  );
  assert.equal(r.outcome.hold, 'looks bad');
  assert.equal(r.outcome.filter, 'lmtp:unix:/x');
  assert.equal(r.outcome.redirect, 'y@example.net');
  assert.equal(r.outcome.reject, undefined);
  assert.deepEqual(
    r.outcome.events.map((e) => e.action),
    ['filter', 'redirect', 'hold', 'filter', 'redirect'],
  );
});

test('BCC adds each address once; PASS ends header and body inspection', async (t) => {
  let r = await runChecks(
    t,
    ONE,
    { 'h.pcre': '/^(From|Subject):/ BCC archive@example.com\n/^X-Spam/ BCC other@example.com\n' },
    SIMPLE,
  );
  assert.deepEqual(r.outcome.bcc, ['archive@example.com', 'other@example.com']);
  r = await runChecks(
    t,
    ONE,
    { 'h.pcre': '/^Subject:/ PASS trusted\n/^X-Spam/ REJECT\n', 'b.regexp': '/bad/ REJECT\n' },
    SIMPLE,
  );
  assert.equal(r.outcome.pass, true);
  assert.equal(r.outcome.reject, undefined);
  assert.deepEqual(r.outcome.events, [
    { action: 'pass', context: 'header', line: 'Subject: buy now', text: 'trusted' },
  ]);
});

test('IGNORE, STRIP, PREPEND and REPLACE change the output; the new text is not inspected again', async (t) => {
  const r = await runChecks(
    t,
    ONE,
    {
      'h.pcre':
        '/^X-Spam:/ IGNORE\n/^Subject: (.*)/ REPLACE Subject: [SPAM] $1\n/^From:/ PREPEND X-Seen: from checked\n/^X-Seen/ REJECT\n',
      'b.regexp':
        '/^bad/ STRIP removed\n/^hello/ PREPEND > quoted\n/^bye/ REPLACE farewell\n/^> quoted/ REJECT\n',
    },
    SIMPLE,
  );
  assert.deepEqual(r.output, [
    'H primary X-Seen: from checked',
    'H primary From: a@example.com',
    'H primary Subject: [SPAM] buy now',
    'END',
    'B ',
    'B > quoted',
    'B hello',
    'B farewell',
  ]);
  assert.equal(r.outcome.reject, undefined);
  assert.deepEqual(
    r.outcome.events.map((e) => `${e.action} ${e.text}`),
    [
      'prepend X-Seen: from checked',
      'replace Subject: [SPAM] buy now',
      'prepend > quoted',
      'strip removed',
      'replace farewell',
    ],
  );
});

test('DUNNO and OK end the table search for the line; INFO and WARN only log', async (t) => {
  const r = await runChecks(
    t,
    ONE,
    { 'h.pcre': '/^From:/ DUNNO\n/^Subject:/ OK\n/^X-Spam/ INFO noted\n/./ WARN catch-all\n' },
    SIMPLE,
  );
  assert.deepEqual(
    r.outcome.events.map((e) => `${e.action}:${e.line}:${e.text}`),
    ['info:X-Spam: yes:noted'],
  );
  assert.equal(r.output.length, 8);
});

test('bad actions: Postfix warnings, the line is treated as not matched', async (t) => {
  const r = await runChecks(
    t,
    ONE,
    {
      'h.pcre': '/^From:/ FROBNICATE now\n/^Subject:/ PREPEND not a header\n/^X-Spam/ REDIRECT nobody\n',
      'b.regexp': '/^hello/ FILTER nocolon\n/^bye/ BCC\n/^bad/ REPLACE\n',
    },
    SIMPLE,
  );
  assert.deepEqual(r.outcome.warnings, [
    'unknown command in header_checks map: FROBNICATE now',
    'bad PREPEND header text "not a header" in header_checks map -- need "headername: headervalue"',
    'bad REDIRECT target "nobody" in header_checks map -- need user@domain',
    'bad FILTER command nocolon in body_checks -- need transport:destination',
    'REPLACE action without text in body_checks map',
    'bad BCC address "" in body_checks map -- need user@domain',
  ]);
  assert.equal(r.outcome.redirect, undefined);
  assert.equal(r.outcome.filter, undefined);
  assert.deepEqual(r.outcome.bcc, []);
  assert.equal(r.output.length, 8);
});

test('a table lookup that fails defers the message, it never accepts it', async (t) => {
  let r = await runChecks(
    t,
    'header_checks = pcre:$DIR/h.pcre, fail:broken\n',
    { 'h.pcre': '/^X-Spam/ HOLD\n' },
    SIMPLE,
  );
  assert.equal(
    r.outcome.tempfail,
    'header_checks map lookup problem -- message not accepted, try again later',
  );
  assert.equal(r.outcome.hold, undefined, 'inspection stops at the failure');
  // The first table answering wins before a broken one is asked.
  r = await runChecks(
    t,
    'header_checks = pcre:$DIR/h.pcre, fail:broken\n',
    { 'h.pcre': '/^From/ REJECT\n' },
    SIMPLE,
  );
  assert.equal(r.outcome.reject, '5.7.1 message content rejected');
  assert.equal(r.outcome.tempfail, undefined);
  r = await runChecks(t, 'body_checks = regexp:$DIR/missing.regexp\n', {}, SIMPLE);
  assert.equal(r.outcome.tempfail, 'body_checks map lookup problem -- message not accepted, try again later');
  assert.equal(r.openWarnings.length, 1);
  assert.match(r.openWarnings[0]!, /^body_checks: .*\$DIR\/missing\.regexp/);
});

test('body_checks_size_limit: only the start of each body segment is inspected', async (t) => {
  const msg = [
    'Content-Type: multipart/mixed; boundary=B',
    '',
    '--B',
    '',
    'aaaa MATCH',
    'bbbb MATCH',
    '--B',
    '',
    'cccc MATCH',
    '--B--',
    '',
  ].join('\n');
  const r = await runChecks(
    t,
    'body_checks_size_limit = 8\nbody_checks = pcre:$DIR/b.pcre\n',
    { 'b.pcre': '/MATCH/ WARN\n' },
    msg,
  );
  assert.deepEqual(
    r.outcome.events.map((e) => e.line),
    ['aaaa MATCH', 'cccc MATCH'],
  );
});

test('header_size_limit: the lookup key is the header as kept', async (t) => {
  const r = await runChecks(
    t,
    'header_size_limit = 20\nheader_checks = pcre:$DIR/h.pcre\n',
    { 'h.pcre': '/^Subject:/ WARN\n' },
    'Subject: 0123456789\n abcdefghij\n dropped\n\nbody\n',
  );
  assert.equal(r.outcome.events[0]!.line, 'Subject: 0123456789\n abcdefghij');
  assert.deepEqual(r.output.slice(0, 2), ['H primary Subject: 0123456789\n abcdefghij', 'END']);
  assert.equal(r.outcome.reject, undefined, 'truncation alone rejects only with strict_* options');
});

test('MIME errors: rejected as the strict_* parameters say, nesting always', async (t) => {
  const eight = 'Subject: caf\u00e9\n\nplain\n';
  let r = await runChecks(t, '', {}, eight);
  assert.equal(r.outcome.reject, undefined);
  assert.equal(r.outcome.has8bit, true);
  r = await runChecks(t, 'strict_7bit_headers = yes\n', {}, eight);
  assert.equal(r.outcome.reject, '5.6.0 improper use of 8-bit data in message header');
  r = await runChecks(t, 'strict_8bitmime_body = yes\n', {}, 'Subject: x\n\nna\u00efve\n');
  assert.equal(r.outcome.reject, '5.6.0 improper use of 8-bit data in message body');
  r = await runChecks(
    t,
    'strict_8bitmime_body = yes\n',
    {},
    'Content-Transfer-Encoding: 8bit\n\nna\u00efve\n',
  );
  assert.equal(r.outcome.reject, undefined);
  const domain = 'Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nX: y\n';
  r = await runChecks(t, '', {}, domain);
  assert.equal(r.outcome.reject, undefined);
  r = await runChecks(t, 'strict_mime_encoding_domain = yes\n', {}, domain);
  assert.equal(r.outcome.reject, '5.6.0 invalid message/* or multipart/* encoding domain');
  const deep = 'Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nX: 1\n\nbody\n';
  r = await runChecks(t, 'mime_nesting_limit = 1\n', {}, deep);
  assert.equal(r.outcome.reject, '5.6.0 MIME nesting exceeds safety limit');
  r = await runChecks(t, 'mime_nesting_limit = 2\n', {}, deep);
  assert.equal(r.outcome.reject, undefined);
});

test('receive_override_options=no_header_body_checks: no table is asked, MIME errors still count', async (t) => {
  const tables = both({ 'h.pcre': '/^Subject/ REJECT\n', 'b.regexp': '/hello/ REJECT\n' });
  let r = await runChecks(t, ONE, tables, SIMPLE, { noHeaderBodyChecks: true });
  assert.equal(r.outcome.reject, undefined);
  assert.deepEqual(r.outcome.events, []);
  assert.equal(r.output.length, 8);
  r = await runChecks(t, `${ONE}strict_7bit_headers = yes\n`, tables, 'X: \u00e9\n\n', {
    noHeaderBodyChecks: true,
  });
  assert.equal(r.outcome.reject, '5.6.0 improper use of 8-bit data in message header');
});
