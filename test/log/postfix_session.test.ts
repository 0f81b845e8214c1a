/*
 * A real Postfix 3.7.11 session log (test/golden/log/postfix-3.7-session.log,
 * recorded from a temporary Postfix instance: SMTP with a rejected
 * recipient, discard, a deferral and its retry 18 s later, a bounce with
 * its non-delivery notification, a local submission via pickup, a client
 * that said nothing) rebuilt line by line with our log_format functions and
 * written through maillogSink: the file must equal Postfix's byte for byte.
 * A second recording (postfix-3.7-smtpd-cleanup.log) covers header_checks
 * actions, a lost connection in DATA, a timeout and too many errors.
 * A third (postfix-3.7-expired.log) follows a message past its queue lifetime.
 * Delay inputs are microsecond stamps chosen to fall where Postfix's did.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  clientLine,
  connectLine,
  contentActionLine,
  deliveryLine,
  disconnectLine,
  expiredLine,
  messageIdLine,
  notificationLine,
  pickupLine,
  queueActiveLine,
  rejectLine,
  removedLine,
  SMTPD_COMMANDS,
  sessionEndLine,
} from '../../src/global/log_format.js';
import { MaillogWriter, maillogSink } from '../../src/global/maillog.js';
import { msg } from '../../src/global/msg.js';
import { GOLDEN, tempDir } from '../harness/index.js';

const S = 1_000_000;
const T0 = 1_764_000_000 * S;
const lh = { name: 'localhost', addr: '127.0.0.1' };
const refused = 'connect to 127.0.0.1[127.0.0.1]:1: Connection refused';

type Level = 'info' | 'warning';
/** What each golden line was made of: level and text after "service[pid]: ". */
function ourTexts(): [Level, string][] {
  const discard = (
    queueId: string,
    to: string,
    stats: Parameters<typeof deliveryLine>[0]['stats'],
    now: number,
  ) =>
    deliveryLine(
      { queueId, recipient: to, relay: 'none', stats, dsn: '2.0.0', status: 'sent', text: 'd.test' },
      now,
    );
  const deferred = (stats: Parameters<typeof deliveryLine>[0]['stats'], now: number) =>
    deliveryLine(
      {
        queueId: '9CC53225581',
        recipient: 'c@x.test',
        relay: 'none',
        stats,
        dsn: '4.4.1',
        status: 'deferred',
        text: refused,
      },
      now,
    );
  return [
    ['info', 'daemon started -- version 3.7.11, configuration /tmp/pfx'],
    ['info', connectLine(lh)],
    ['info', clientLine('9CC53225581', lh)],
    [
      'info',
      rejectLine({
        queueId: '9CC53225581',
        stage: 'RCPT',
        client: lh,
        reply: '550 5.1.1 <bu@b.test>: Recipient address rejected: no such user',
        sender: 'sender@d.test',
        recipient: 'bu@b.test',
        proto: 'ESMTP',
        helo: 'client.example',
      }),
    ],
    ['info', messageIdLine('9CC53225581', '<m1@client.example>')],
    ['info', queueActiveLine('9CC53225581', 'sender@d.test', 273, 2)],
    ['info', clientLine('9DF0E225582', lh)],
    ['info', messageIdLine('9DF0E225582', '<20261125100935.9DF0E225582@mx.example.test>')],
    [
      'info',
      disconnectLine(lh, [
        { name: 'ehlo', ok: 1, total: 1 },
        { name: 'mail', ok: 2, total: 2 },
        { name: 'rcpt', ok: 3, total: 4 },
        { name: 'data', ok: 2, total: 2 },
        { name: 'quit', ok: 1, total: 1 },
      ]),
    ],
    ['info', connectLine(lh)],
    ['info', 'lost connection after CONNECT from localhost[127.0.0.1]'],
    ['info', queueActiveLine('9DF0E225582', 'sender@d.test', 315, 1)],
    [
      'info',
      discard(
        '9CC53225581',
        'a@d.test',
        { incomingArrival: T0, activeArrival: T0 + 10_000, agentHandoff: T0 + 20_000 },
        T0 + 20_000,
      ),
    ],
    ['info', disconnectLine(lh, [])],
    ['info', refused],
    [
      'info',
      deferred({ incomingArrival: T0, activeArrival: T0 + 14_000, agentHandoff: T0 + 28_000 }, T0 + 32_000),
    ],
    ['warning', 'connect to public/flush: No such file or directory'],
    ['warning', '9CC53225581: flush service failure'],
    [
      'info',
      deliveryLine(
        {
          queueId: '9DF0E225582',
          recipient: 'z@nowhere.test',
          relay: 'none',
          stats: { incomingArrival: T0, activeArrival: T0 + 10_000, agentHandoff: T0 + 20_000 },
          dsn: '5.4.4',
          status: 'bounced',
          text: 'Host or domain name not found. Name service error for name=nowhere.test type=A: Host not found',
        },
        T0 + 20_000,
      ),
    ],
    ['info', messageIdLine('A446822558B', '<20261125100935.A446822558B@mx.example.test>')],
    ['info', queueActiveLine('A446822558B', '', 2302, 1)],
    [
      'info',
      discard(
        'A446822558B',
        'sender@d.test',
        { incomingArrival: T0, activeArrival: T0 + 1_000, agentHandoff: T0 + 2_000 },
        T0 + 4_000,
      ),
    ],
    ['info', removedLine('A446822558B')],
    ['info', notificationLine('9DF0E225582', 'A446822558B')],
    ['info', removedLine('9DF0E225582')],
    ['info', pickupLine('A05E6224065', 0, 'root')],
    ['info', messageIdLine('A05E6224065', '<20261125100945.A05E6224065@mx.example.test>')],
    ['info', queueActiveLine('A05E6224065', 'root@mx.example.test', 273, 1)],
    [
      'info',
      discard(
        'A05E6224065',
        'a@d.test',
        { incomingArrival: T0, activeArrival: T0 + 30_000, agentHandoff: T0 + 30_000 },
        T0 + 30_000,
      ),
    ],
    ['info', removedLine('A05E6224065')],
    ['info', queueActiveLine('9CC53225581', 'sender@d.test', 273, 2)],
    ['info', refused],
    [
      'info',
      deferred(
        { incomingArrival: T0, activeArrival: T0 + 18 * S, agentHandoff: T0 + 18 * S + 1_000 },
        T0 + 18 * S + 2_000,
      ),
    ],
    ['warning', 'connect to public/flush: No such file or directory'],
    ['warning', '9CC53225581: flush service failure'],
    ['info', 'Deleted: 1 message'],
  ];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Writes texts with the framing (time, host, ident, pid) of golden's lines; the file must equal golden. */
function replay(t: TestContext, name: string, texts: [Level, string][]): void {
  const golden = readFileSync(join(GOLDEN, 'log', name), 'utf8');
  const frames = golden
    .trimEnd()
    .split('\n')
    .map((line) => {
      const m = /^(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\S+) ([^[]+)\[(\d+)\]: /.exec(line);
      assert.ok(m, line);
      const when = new Date(
        2026,
        MONTHS.indexOf(m[1]!),
        Number(m[2]),
        Number(m[3]),
        Number(m[4]),
        Number(m[5]),
      );
      return { when, host: m[6]!, ident: m[7]!, pid: Number(m[8]) };
    });
  assert.equal(texts.length, frames.length);
  const file = join(tempDir(t), 'mail.log');
  const writer = new MaillogWriter(file);
  const saved = msg.program;
  t.after(() => {
    msg.setSink(null);
    msg.setProgram(saved);
    writer.close();
  });
  frames.forEach((f, i) => {
    msg.setProgram(f.ident);
    msg.setSink(maillogSink({ writer, host: f.host, pid: f.pid, clock: () => f.when }));
    const [level, text] = texts[i]!;
    if (level === 'warning') msg.warn(text);
    else msg.info(text);
  });
  const ours = readFileSync(file, 'utf8').split('\n');
  const theirs = golden.split('\n');
  for (let i = 0; i < theirs.length; i++) assert.equal(ours[i], theirs[i], `${name} line ${i + 1}`);
}

test("a delivery session: our lines through maillogSink equal Postfix's byte for byte", (t) => {
  replay(t, 'postfix-3.7-session.log', ourTexts());
});

test("header_checks actions, broken sessions and command tallies equal Postfix's byte for byte", (t) => {
  const session = (
    qid: string,
    subject: string,
    action: 'reject' | 'hold' | 'warning' | 'discard',
  ): [Level, string][] => [
    ['info', connectLine(lh)],
    ['info', clientLine(qid, lh)],
    [
      'info',
      contentActionLine({
        queueId: qid,
        action,
        where: 'header',
        text: `Subject: ${subject}`,
        client: lh,
        sender: 'sender@d.test',
        recipient: 'a@d.test',
        proto: 'ESMTP',
        helo: 'client.example',
        ...(action === 'reject' ? { reason: '5.7.1 no spam here' } : {}),
      }),
    ],
  ];
  const tally = (...pairs: [string, number, number][]) =>
    pairs.map(([name, ok, total]) => ({ name, ok, total }));
  const normal = tally(['ehlo', 1, 1], ['mail', 1, 1], ['rcpt', 1, 1], ['data', 1, 1], ['quit', 1, 1]);
  const t0 = 1_764_000_000 * S;
  replay(t, 'postfix-3.7-smtpd-cleanup.log', [
    ['info', 'daemon started -- version 3.7.11, configuration /tmp/pfx2'],
    ...session('DFACB224B03', 'buy spam', 'reject'),
    [
      'info',
      disconnectLine(
        lh,
        tally(['ehlo', 1, 1], ['mail', 1, 1], ['rcpt', 1, 1], ['data', 0, 1], ['rset', 1, 1], ['quit', 1, 1]),
      ),
    ],
    ...session('E023A224B03', 'please hold', 'hold'),
    ['info', messageIdLine('E023A224B03', '<20261125101114.E023A224B03@mx.example.test>')],
    ['info', disconnectLine(lh, normal)],
    ...session('E0E59224B04', 'warn me', 'warning'),
    ['info', messageIdLine('E0E59224B04', '<20261125101114.E0E59224B04@mx.example.test>')],
    ['info', disconnectLine(lh, normal)],
    ...session('E17C4224B05', 'drop it', 'discard'),
    ['info', disconnectLine(lh, normal)],
    ['info', connectLine(lh)],
    ['info', clientLine('E1BAC224B05', lh)],
    ['info', queueActiveLine('E0E59224B04', 'sender@d.test', 319, 1)],
    [
      'info',
      deliveryLine(
        {
          queueId: 'E0E59224B04',
          recipient: 'a@d.test',
          relay: 'none',
          stats: { incomingArrival: t0, activeArrival: t0 + 2_000, agentHandoff: t0 + 4_000 },
          dsn: '2.0.0',
          status: 'sent',
          text: 'd.test',
        },
        t0 + 6_000,
      ),
    ],
    ['info', removedLine('E0E59224B04')],
    ['info', connectLine(lh)],
    ['info', sessionEndLine('lost connection', 'DATA', lh, 21)],
    ['info', disconnectLine(lh, tally(['ehlo', 1, 1], ['mail', 1, 1], ['rcpt', 1, 1], ['data', 0, 1]))],
    ['info', messageIdLine('E1BAC224B05', '<20261125101114.E1BAC224B05@mx.example.test>')],
    ['info', sessionEndLine('timeout', 'MAIL', lh)],
    ['info', disconnectLine(lh, tally(['helo', 1, 1], ['mail', 1, 1]))],
    ['info', connectLine(lh)],
    ['info', sessionEndLine('too many errors', 'UNKNOWN', lh)],
    ['info', disconnectLine(lh, tally(['unknown', 0, 2]))],
  ]);
});

test('a message that outlives maximal_queue_lifetime: expired, returned, notified, as Postfix logs it', (t) => {
  const qid = '91A18224BAC';
  const nqid = '98919224BB7';
  const t0 = 1_764_000_000 * S;
  const deferral = (stats: Parameters<typeof deliveryLine>[0]['stats'], now: number): [Level, string] => [
    'info',
    deliveryLine(
      {
        queueId: qid,
        recipient: 'c@x.test',
        relay: 'none',
        stats,
        dsn: '4.4.1',
        status: 'deferred',
        text: refused,
      },
      now,
    ),
  ];
  replay(t, 'postfix-3.7-expired.log', [
    ['info', connectLine(lh)],
    ['info', clientLine(qid, lh)],
    ['info', messageIdLine(qid, `<20261125101224.${qid}@mx.example.test>`)],
    [
      'info',
      disconnectLine(
        lh,
        ['ehlo', 'mail', 'rcpt', 'data', 'quit'].map((name) => ({ name, ok: 1, total: 1 })),
      ),
    ],
    ['info', queueActiveLine(qid, 'sender@d.test', 306, 1)],
    ['info', refused],
    deferral({ incomingArrival: t0, activeArrival: t0 + 8_000, agentHandoff: t0 + 9_000 }, t0 + 10_000),
    ['info', queueActiveLine(qid, 'sender@d.test', 306, 1)],
    ['info', refused],
    deferral({ incomingArrival: t0, activeArrival: t0 + S, agentHandoff: t0 + S + 1_000 }, t0 + S + 2_000),
    ['info', expiredLine(qid, 'sender@d.test')],
    ['info', messageIdLine(nqid, `<20261125101225.${nqid}@mx.example.test>`)],
    ['info', queueActiveLine(nqid, '', 2188, 1)],
    ['info', notificationLine(qid, nqid)],
    ['info', removedLine(qid)],
    [
      'info',
      deliveryLine(
        {
          queueId: nqid,
          recipient: 'sender@d.test',
          relay: 'none',
          stats: { incomingArrival: t0, activeArrival: t0 + 1_000, agentHandoff: t0 + 2_000 },
          dsn: '2.0.0',
          status: 'sent',
          text: 'd.test',
        },
        t0 + 6_000,
      ),
    ],
    ['info', removedLine(nqid)],
  ]);
});

test('contentActionLine: local submissions, unknown fields, long text', () => {
  assert.equal(
    contentActionLine({ queueId: 'Q', action: 'hold', where: 'body', text: 'x'.repeat(300), sender: 'root' }),
    `Q: hold: body ${'x'.repeat(200)} from local; from=<root>`,
  );
  assert.deepEqual(SMTPD_COMMANDS.slice(0, 6), ['helo', 'ehlo', 'xclient', 'xforward', 'starttls', 'auth']);
});
