/*
 * Table results parsed as header_checks(5) describes them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAction } from '../../src/cleanup/checks_action.js';
import { checkLogLine } from '../../src/cleanup/checks_log.js';

test('actions are case insensitive and keep their text', () => {
  assert.deepEqual(parseAction('reject', 'header', 'header_checks'), {
    kind: 'reject',
    reason: '5.7.1 message content rejected',
  });
  assert.deepEqual(parseAction('Reject 4.2.1  busy ', 'body', 'body_checks'), {
    kind: 'reject',
    reason: '4.2.1 busy',
  });
  assert.deepEqual(parseAction('REJECT 550 not a dsn', 'body', 'body_checks'), {
    kind: 'reject',
    reason: '5.7.1 550 not a dsn',
  });
  assert.deepEqual(parseAction('hold', 'header', 'h'), { kind: 'hold', text: '' });
  assert.deepEqual(parseAction('Warn  two  words', 'header', 'h'), { kind: 'warn', text: 'two  words' });
  assert.deepEqual(parseAction('ok', 'header', 'h'), { kind: 'dunno' });
  assert.deepEqual(parseAction('ignore', 'header', 'h'), { kind: 'ignore' });
  assert.deepEqual(parseAction('filter smtp:', 'header', 'h'), { kind: 'filter', target: 'smtp:' });
  assert.deepEqual(parseAction('bcc a@b', 'header', 'h'), { kind: 'bcc', address: 'a@b' });
});

test('PREPEND/REPLACE need a header label in header context only', () => {
  assert.deepEqual(parseAction('PREPEND X-A: 1', 'header', 'h'), { kind: 'prepend', text: 'X-A: 1' });
  assert.equal(parseAction('PREPEND plain text', 'header', 'h').kind, 'invalid');
  assert.deepEqual(parseAction('PREPEND plain text', 'body', 'b'), { kind: 'prepend', text: 'plain text' });
  assert.deepEqual(parseAction('replace', 'body', 'body_checks'), {
    kind: 'invalid',
    warning: 'REPLACE action without text in body_checks map',
  });
});

test('unknown or empty action', () => {
  assert.deepEqual(parseAction('DEFER later', 'header', 'header_checks'), {
    kind: 'invalid',
    warning: 'unknown command in header_checks map: DEFER later',
  });
  assert.equal(parseAction('', 'header', 'header_checks').kind, 'invalid');
});

test('log line of an action, as cleanup writes it', () => {
  const ctx = { queueId: '4AB12C3D', client: 'mail.example[192.0.2.1]', sender: 's@example.com' };
  assert.equal(
    checkLogLine(
      { action: 'reject', context: 'header', line: 'Subject: a\n b', text: '5.7.1 no' },
      {
        ...ctx,
        recipient: 'r@example.net',
        protocol: 'ESMTP',
        helo: 'mail.example',
      },
    ),
    '4AB12C3D: reject: header Subject: a? b from mail.example[192.0.2.1]; from=<s@example.com> to=<r@example.net> proto=ESMTP helo=<mail.example>: 5.7.1 no',
  );
  assert.equal(
    checkLogLine(
      { action: 'warning', context: 'body', line: 'x'.repeat(250), text: '' },
      { ...ctx, client: 'local' },
    ),
    `4AB12C3D: warning: body ${'x'.repeat(200)} from local; from=<s@example.com>`,
  );
});
