/*
 * The parsed mail log lines: exact text for each, and Postfix's delay
 * precision rules (two significant digits, at most
 * delay_logging_resolution_limit decimals, whole seconds from 10 s up).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import {
  clientLine,
  connectLine,
  delayResolution,
  deliveryLine,
  disconnectLine,
  expiredLine,
  formatDelay,
  formatDelays,
  messageIdLine,
  notificationLine,
  pickupLine,
  queueActiveLine,
  rejectLine,
  removedLine,
} from '../../src/global/log_format.js';
import { FatalError, msg } from '../../src/global/msg.js';
import { configDir } from '../harness/index.js';

const S = 1_000_000;

test('formatDelay: small values keep two significant digits within the resolution limit', () => {
  const cases: [number, number, string][] = [
    [0, 2, '0'],
    [4_000, 2, '0'], // under half the resolution
    [5_000, 2, '0.01'], // rounds up to the resolution
    [50_000, 2, '0.05'],
    [123_456, 2, '0.12'],
    [100_000, 2, '0.1'], // trailing zero dropped
    [12_300, 2, '0.01'],
    [12_300, 6, '0.012'],
    [12, 6, '0.000012'],
    [1_234_000, 2, '1.2'],
    [1_250_000, 2, '1.3'],
    [9_960_000, 2, '10'], // carry into the seconds
    [12_600_000, 2, '13'],
    [123_400_000, 2, '123'],
    [400_000, 0, '0'],
    [600_000, 0, '1'],
    [3_000_000, 2, '3'],
    [86_400 * S + 999_999, 2, '86401'],
  ];
  for (const [micros, limit, want] of cases) {
    assert.equal(formatDelay(micros, limit), want, `${micros}us at limit ${limit}`);
  }
});

test('formatDelay: out-of-range input and limits are clamped, never NaN', () => {
  assert.equal(formatDelay(-5, 2), '0');
  assert.equal(formatDelay(Number.NaN, 2), '0');
  assert.equal(formatDelay(12_345, 9), '0.012');
  assert.equal(formatDelay(600_000, -1), '1');
});

test('formatDelays: the four stages add up; missing stages stretch the one before', () => {
  const t0 = 1_700_000_000 * S;
  const full = {
    incomingArrival: t0,
    activeArrival: t0 + 30_000,
    agentHandoff: t0 + 40_000,
    connSetupDone: t0 + 240_000,
  };
  assert.equal(formatDelays(full, t0 + 1_500_000), 'delay=1.5, delays=0.03/0.01/0.2/1.3');
  // Local delivery: no connection set-up.
  assert.equal(
    formatDelays({ incomingArrival: t0, activeArrival: t0 + 20_000, agentHandoff: t0 + 21_000 }, t0 + 70_000),
    'delay=0.07, delays=0.02/0/0/0.05',
  );
  // Deferred by qmgr: never handed to an agent.
  assert.equal(
    formatDelays({ incomingArrival: t0, activeArrival: t0 + 2 * S }, t0 + 5 * S),
    'delay=5, delays=2/3/0/0',
  );
  // Bounced by cleanup: never reached the active queue.
  assert.equal(formatDelays({ incomingArrival: t0 }, t0 + 300 * S), 'delay=300, delays=300/0/0/0');
  // A clock that went back logs 0, not a negative delay.
  assert.equal(formatDelays({ incomingArrival: t0 }, t0 - S), 'delay=0, delays=0/0/0/0');
  // deliverDone wins over "now".
  assert.equal(
    formatDelays({ incomingArrival: t0, deliverDone: t0 + S }, t0 + 9 * S),
    'delay=1, delays=1/0/0/0',
  );
});

test('deliveryLine: to=, orig_to= only when different, conn_use=, dsn=, status=', () => {
  const t0 = 1_700_000_000 * S;
  const stats = { incomingArrival: t0, activeArrival: t0 + 10_000, agentHandoff: t0 + 20_000 };
  assert.equal(
    deliveryLine(
      {
        queueId: '4Bx9Kq1Z3Jz8',
        recipient: 'bob@example.com',
        origRecipient: 'Bob@Example.com',
        relay: 'local',
        stats,
        dsn: '2.0.0',
        status: 'sent',
        text: 'delivered to mailbox',
      },
      t0 + 50_000,
    ),
    '4Bx9Kq1Z3Jz8: to=<bob@example.com>, relay=local, delay=0.05, delays=0.01/0.01/0/0.03, dsn=2.0.0, status=sent (delivered to mailbox)',
  );
  assert.equal(
    deliveryLine(
      {
        queueId: 'ABC123',
        recipient: 'x@remote.example',
        origRecipient: 'alias@example.com',
        relay: 'mx.remote.example[203.0.113.5]:25',
        stats: { ...stats, connSetupDone: t0 + 120_000, reuseCount: 2 },
        dsn: '4.4.1',
        status: 'deferred',
        text: 'connect to mx.remote.example[203.0.113.5]:25: Connection refused',
      },
      t0 + 200_000,
      3,
    ),
    'ABC123: to=<x@remote.example>, orig_to=<alias@example.com>, relay=mx.remote.example[203.0.113.5]:25, conn_use=3, delay=0.2, delays=0.01/0.01/0.1/0.08, dsn=4.4.1, status=deferred (connect to mx.remote.example[203.0.113.5]:25: Connection refused)',
  );
});

test('the other parsed lines', () => {
  const client = { name: 'mail.example.com', addr: '192.0.2.1' };
  assert.equal(connectLine(client), 'connect from mail.example.com[192.0.2.1]');
  assert.equal(clientLine('Q1', client), 'Q1: client=mail.example.com[192.0.2.1]');
  assert.equal(
    clientLine('Q1', { name: 'unknown', addr: '2001:db8::1' }, { method: 'PLAIN', username: 'alice' }),
    'Q1: client=unknown[2001:db8::1], sasl_method=PLAIN, sasl_username=alice',
  );
  assert.equal(pickupLine('Q2', 1000, 'dave'), 'Q2: uid=1000 from=<dave>');
  assert.equal(messageIdLine('Q1', '<20261125.1@example.com>'), 'Q1: message-id=<20261125.1@example.com>');
  assert.equal(messageIdLine('Q1', '<r@x>', true), 'Q1: resent-message-id=<r@x>');
  assert.equal(queueActiveLine('Q1', '', 321, 1), 'Q1: from=<>, size=321, nrcpt=1 (queue active)');
  assert.equal(expiredLine('Q1', 'a@b'), 'Q1: from=<a@b>, status=expired, returned to sender');
  assert.equal(removedLine('Q1'), 'Q1: removed');
  assert.equal(notificationLine('Q1', 'Q9'), 'Q1: sender non-delivery notification: Q9');
  assert.equal(notificationLine('Q1', 'Q9', 'delay'), 'Q1: sender delay notification: Q9');
  assert.equal(
    notificationLine('Q1', 'Q9', 'delivery status', 'postmaster'),
    'Q1: postmaster delivery status notification: Q9',
  );
  assert.equal(
    rejectLine({
      stage: 'RCPT',
      client,
      reply: '554 5.7.1 <x@elsewhere.example>: Relay access denied',
      sender: 'a@example.com',
      recipient: 'x@elsewhere.example',
      proto: 'ESMTP',
      helo: 'mail.example.com',
    }),
    'NOQUEUE: reject: RCPT from mail.example.com[192.0.2.1]: 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<a@example.com> to=<x@elsewhere.example> proto=ESMTP helo=<mail.example.com>',
  );
});

test('disconnectLine: per-command tallies, n/m on failures, commands=0/0 when silent', () => {
  const c = { name: 'unknown', addr: '203.0.113.9' };
  assert.equal(disconnectLine(c, []), 'disconnect from unknown[203.0.113.9] commands=0/0');
  assert.equal(
    disconnectLine(c, [
      { name: 'ehlo', ok: 1, total: 1 },
      { name: 'mail', ok: 1, total: 1 },
      { name: 'rcpt', ok: 1, total: 1 },
      { name: 'data', ok: 1, total: 1 },
      { name: 'quit', ok: 1, total: 1 },
    ]),
    'disconnect from unknown[203.0.113.9] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5',
  );
  assert.equal(
    disconnectLine(c, [
      { name: 'ehlo', ok: 1, total: 1 },
      { name: 'auth', ok: 0, total: 1 },
      { name: 'rset', ok: 0, total: 0 },
      { name: 'quit', ok: 1, total: 1 },
    ]),
    'disconnect from unknown[203.0.113.9] ehlo=1 auth=0/1 quit=1 commands=2/3',
  );
});

test('delayResolution: delay_logging_resolution_limit from main.cf, 0..6', (t) => {
  assert.equal(delayResolution(loadMainConfig({ configDir: configDir(t, '') })), 2);
  assert.equal(
    delayResolution(loadMainConfig({ configDir: configDir(t, 'delay_logging_resolution_limit = 6\n') })),
    6,
  );
  msg.setExitOnFatal(false);
  const said: string[] = [];
  msg.setSink((_level, line) => said.push(line));
  t.after(() => {
    msg.setExitOnFatal(true);
    msg.setSink(null);
  });
  assert.throws(
    () =>
      delayResolution(loadMainConfig({ configDir: configDir(t, 'delay_logging_resolution_limit = 7\n') })),
    FatalError,
  );
  assert.match(said.join('\n'), /invalid delay_logging_resolution_limit parameter value 7 > 6/);
});
