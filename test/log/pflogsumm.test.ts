/*
 * A day of mail written with our log line functions and MaillogWriter, read
 * by Debian's pflogsumm: its Grand Totals must count what happened. This is
 * the proof that the lines keep the shape log tools parse. Missing pflogsumm
 * skips locally and fails under CI=true (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  clientLine,
  connectLine,
  deliveryLine,
  disconnectLine,
  messageIdLine,
  notificationLine,
  pickupLine,
  queueActiveLine,
  rejectLine,
  removedLine,
} from '../../src/global/log_format.js';
import { formatLogLine, MaillogWriter, maillogSink } from '../../src/global/maillog.js';
import { msg } from '../../src/global/msg.js';
import { postfixCommand, run, tempDir } from '../harness/index.js';

const S = 1_000_000;

/** Builds the log: each entry is [seconds after the start, service, pid, text]. */
function dayOfMail(): [number, string, number, string][] {
  const t0 = Date.UTC(2026, 10, 25, 9, 0, 0) * 1000;
  const at = (s: number) => t0 + s * S;
  const mx = { name: 'mail.example.com', addr: '192.0.2.1' };
  const spammer = { name: 'unknown', addr: '198.51.100.7' };
  const smtpdOk = [
    { name: 'ehlo', ok: 1, total: 1 },
    { name: 'mail', ok: 1, total: 1 },
    { name: 'rcpt', ok: 1, total: 1 },
    { name: 'data', ok: 1, total: 1 },
    { name: 'quit', ok: 1, total: 1 },
  ];
  const local = (queueId: string, recipient: string, arrived: number, done: number, origRecipient?: string) =>
    deliveryLine(
      {
        queueId,
        recipient,
        ...(origRecipient ? { origRecipient } : {}),
        relay: 'local',
        stats: {
          incomingArrival: at(arrived),
          activeArrival: at(arrived + 0.02),
          agentHandoff: at(arrived + 0.03),
        },
        dsn: '2.0.0',
        status: 'sent',
        text: 'delivered to mailbox',
      },
      at(done),
    );
  return [
    // 1: two local recipients over SMTP, one of them via an alias.
    [0, 'smtpd', 101, connectLine(mx)],
    [1, 'smtpd', 101, clientLine('4Bx1A', mx)],
    [1, 'cleanup', 102, messageIdLine('4Bx1A', '<one@example.com>')],
    [1, 'qmgr', 103, queueActiveLine('4Bx1A', 'alice@Example.COM', 1234, 2)],
    [1, 'local', 104, local('4Bx1A', 'bob@localhost', 1, 1.2)],
    [1, 'local', 104, local('4Bx1A', 'carol@localhost', 1, 1.3, 'postmaster@localhost')],
    [2, 'qmgr', 103, removedLine('4Bx1A')],
    [2, 'smtpd', 101, disconnectLine(mx, smtpdOk)],
    // 2: a local submission to a host that refuses, tried twice.
    [60, 'pickup', 105, pickupLine('4Bx2B', 1000, 'dave')],
    [60, 'cleanup', 102, messageIdLine('4Bx2B', '<two@vm.localdomain>')],
    [60, 'qmgr', 103, queueActiveLine('4Bx2B', 'dave@vm.localdomain', 500, 1)],
    ...[61, 400].map((t): [number, string, number, string] => [
      t,
      'smtp',
      106,
      deliveryLine(
        {
          queueId: '4Bx2B',
          recipient: 'x@remote.example',
          relay: 'none',
          stats: { incomingArrival: at(60), activeArrival: at(t - 0.5), agentHandoff: at(t - 0.4) },
          dsn: '4.4.1',
          status: 'deferred',
          text: 'connect to mx.remote.example[203.0.113.5]:25: Connection refused',
        },
        at(t),
      ),
    ]),
    // 3: an unknown local user bounces; the notification goes back and is delivered.
    [120, 'smtpd', 107, connectLine(spammer)],
    [
      120,
      'smtpd',
      107,
      rejectLine({
        stage: 'RCPT',
        client: spammer,
        reply: '554 5.7.1 <x@elsewhere.example>: Relay access denied',
        sender: 'eve@spam.example',
        recipient: 'x@elsewhere.example',
        proto: 'ESMTP',
        helo: 'spam',
      }),
    ],
    [121, 'smtpd', 107, clientLine('4Bx3C', spammer)],
    [121, 'cleanup', 102, messageIdLine('4Bx3C', '<three@spam.example>')],
    [121, 'qmgr', 103, queueActiveLine('4Bx3C', 'eve@spam.example', 800, 1)],
    [
      121,
      'local',
      104,
      deliveryLine(
        {
          queueId: '4Bx3C',
          recipient: 'nobody@localhost',
          relay: 'local',
          stats: { incomingArrival: at(121), activeArrival: at(121.01), agentHandoff: at(121.02) },
          dsn: '5.1.1',
          status: 'bounced',
          text: 'unknown user: "nobody"',
        },
        at(121.05),
      ),
    ],
    [121, 'cleanup', 102, messageIdLine('4Bx4D', '<bounce.4Bx4D@vm.localdomain>')],
    [121, 'bounce', 108, notificationLine('4Bx3C', '4Bx4D')],
    [121, 'qmgr', 103, removedLine('4Bx3C')],
    [121, 'qmgr', 103, queueActiveLine('4Bx4D', '', 2400, 1)],
    [
      122,
      'smtp',
      106,
      deliveryLine(
        {
          queueId: '4Bx4D',
          recipient: 'eve@spam.example',
          relay: 'mx.spam.example[198.51.100.25]:25',
          stats: {
            incomingArrival: at(121),
            activeArrival: at(121.1),
            agentHandoff: at(121.2),
            connSetupDone: at(121.5),
          },
          dsn: '2.0.0',
          status: 'sent',
          text: '250 2.0.0 Ok: queued as 9F3E21',
        },
        at(122),
      ),
    ],
    [122, 'qmgr', 103, removedLine('4Bx4D')],
    [
      123,
      'smtpd',
      107,
      disconnectLine(spammer, [
        { name: 'ehlo', ok: 1, total: 1 },
        { name: 'rcpt', ok: 1, total: 2 },
      ]),
    ],
  ].map(([s, service, pid, text]) => [s as number, service as string, pid as number, text as string]);
}

function grandTotal(report: string, label: string): number {
  const m = new RegExp(`^\\s*(\\d+)k?\\s+${label}\\b`, 'm').exec(report);
  assert.ok(m, `pflogsumm reports "${label}":\n${report}`);
  return Number(m[1]);
}

test('pflogsumm counts a log written with our functions', (t) => {
  const pflogsumm = postfixCommand(t, 'pflogsumm');
  if (pflogsumm === null) return;
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  const writer = new MaillogWriter(file);
  const start = Date.UTC(2026, 10, 25, 9, 0, 0);
  for (const [s, service, pid, text] of dayOfMail()) {
    writer.write(formatLogLine(new Date(start + s * 1000), 'vm', `postfix/${service}`, pid, text));
  }
  // Diagnostics reach the log through msg, as a daemon's would.
  const saved = msg.program;
  msg.setProgram('postfix/smtpd');
  msg.setSink(maillogSink({ writer, host: 'vm', pid: 101, clock: () => new Date(start + 200_000) }));
  try {
    msg.warn('hostname nowhere.example does not resolve to address 192.0.2.77');
  } finally {
    msg.setSink(null);
    msg.setProgram(saved);
  }
  writer.close();
  assert.match(readFileSync(file, 'utf8'), /^Nov 25 \d\d:0\d:\d\d vm postfix\/smtpd\[101\]: connect from /);

  const r = run(pflogsumm, ['--problems-first', file]);
  assert.equal(r.status, 0, r.stderr);
  const report = r.stdout;
  assert.equal(grandTotal(report, 'received'), 3);
  assert.equal(grandTotal(report, 'delivered'), 3);
  assert.equal(grandTotal(report, 'forwarded'), 0);
  assert.equal(grandTotal(report, 'deferred'), 1);
  assert.match(report, /deferred\s+\(2\s+deferrals\)/);
  assert.equal(grandTotal(report, 'bounced'), 1);
  assert.equal(grandTotal(report, 'rejected'), 1);
  assert.equal(grandTotal(report, 'senders'), 3);
  assert.equal(grandTotal(report, 'sending hosts/domains'), 3);
  assert.equal(grandTotal(report, 'recipients'), 3);
  assert.equal(grandTotal(report, 'recipient hosts/domains'), 2);
  // The reasons reach the detail sections intact.
  assert.match(report, /Connection refused/);
  assert.match(report, /unknown user: "nobody"/);
  assert.match(report, /Relay access denied/);
  assert.match(
    report,
    /Warnings\n-+\n\s+smtpd \(total: 1\)\n\s+1\s+hostname nowhere.example does not resolve to address/,
  );
});
