/*
 * The cleanup daemon as a process, driven through the cleanup stream
 * (CleanupClient) as pickup and smtpd drive it: check actions, limits,
 * refusals and their reasons, SMTP Received: headers, bad clients.
 * Expected texts come from Postfix 3.7 (test/golden/cleanup/daemon1,
 * daemon2: maillog and postcat of the same messages).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  CLEANUP_FLAG,
  CLEANUP_STAT,
  CleanupClient,
  type CleanupResult,
} from '../../src/global/cleanup_client.js';
import { loadMainConfig, type MainConfig } from '../../src/global/config.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { GOLDEN } from '../harness/index.js';
import { daemonSetup, type Fixture, normalizeLog, readQueueFile, sleep } from './daemon_fixture.js';
import { goldenBySubject, normalizeContent } from './golden_postcat.js';

const PICKUP_FLAGS = CLEANUP_FLAG.MASK_EXTERNAL;

interface Msg {
  sender?: string;
  rcpts?: (string | QueueRecipient)[];
  content: string;
  attrs?: Record<string, string>;
  flags?: number;
}

async function submit(cfg: MainConfig, m: Msg): Promise<CleanupResult & { firstId: string }> {
  const c = await CleanupClient.open(cfg, m.flags ?? PICKUP_FLAGS);
  await c.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: m.sender ?? 'alice@example.com',
    recipients: (m.rcpts ?? ['bob@example.com']).map((r) => (typeof r === 'string' ? { address: r } : r)),
    attributes: m.attrs ?? { rewrite_context: 'local', origin: 'uid=0', full_name: 'root' },
  });
  await c.content(Buffer.from(m.content, 'latin1'));
  return { ...(await c.finish()), firstId: c.queueId };
}

async function setup(t: TestContext, extra = ''): Promise<{ fx: Fixture; cfg: MainConfig }> {
  const fx = await daemonSetup(t, extra);
  await fx.start('cleanup');
  return { fx, cfg: loadMainConfig({ configDir: fx.conf }) };
}

/** Postfix's log lines for one recorded message, normalized as ours are. */
function goldenLog(set: string, id: string): string[] {
  const text = readFileSync(join(GOLDEN, 'cleanup', set, 'maillog.txt'), 'utf8');
  return normalizeLog(
    text
      .split('\n')
      .filter((l) => l.includes(`${id}: `) && l.includes('/cleanup['))
      .join('\n'),
    [id],
  ).map((l) => l.replace(/delay=\S+, delays=\S+,/, 'delay=D, delays=D,'));
}

function ourLog(fx: Fixture, id: string): string[] {
  return normalizeLog(
    fx
      .log()
      .split('\n')
      .filter((l) => l.includes(`${id}: `) && l.includes('/cleanup['))
      .join('\n'),
    [id],
  ).map((l) => l.replace(/delay=\S+, delays=\S+,/, 'delay=D, delays=D,'));
}

/** The queue ID of the golden message with this Subject, from its postcat heading. */
function goldenId(set: string, subject: string): string {
  const text = readFileSync(join(GOLDEN, 'cleanup', set, 'maillog.txt'), 'utf8');
  const line = text.split('\n').find((l) => l.includes(`header Subject: ${subject} from`));
  const id = line && /: ([0-9A-F]+): /.exec(line)?.[1];
  if (!id) throw new Error(`no golden message ${subject}`);
  return id;
}

const CHECKS = [
  '/^Subject: hold me/ HOLD held for review',
  '/^Subject: warn me/ WARN watch this',
  '/^X-Drop:/ IGNORE',
  '/^Subject: discard me/ DISCARD dropped',
  '/^Subject: reject me/ REJECT no thanks',
  '/^Subject: redirect me/ REDIRECT carol@example.com',
  '/^Subject: prepend me/ PREPEND X-Tag: tagged',
  '',
].join('\n');

async function checksSetup(t: TestContext, extra = '') {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-checks-');
  writeFileSync(join(dir, 'header_checks'), CHECKS);
  writeFileSync(join(dir, 'body_checks'), '/^bad body line/ REJECT 5.7.9 body says no\n');
  return setup(
    t,
    `header_checks = regexp:${dir}/header_checks\nbody_checks = regexp:${dir}/body_checks\n${extra}`,
  );
}

test('header_checks HOLD, WARN+IGNORE, REDIRECT, PREPEND: files and log lines as Postfix', async (t) => {
  const { fx, cfg } = await checksSetup(t);
  const cases: [string, string, string][] = [
    ['hold me', 'hold', 'Subject: hold me\n\nbody\n'],
    ['warn me', 'incoming', 'Subject: warn me\nX-Drop: yes\n\nbody\n'],
    ['redirect me', 'incoming', 'Subject: redirect me\n\nbody\n'],
  ];
  for (const [subject, queue, content] of cases) {
    const r = await submit(cfg, { content });
    assert.equal(r.status, 0, r.reason);
    const path = (await fx.waitFiles(queue, 1)).find((p) => basename(p) === r.queueId);
    assert.ok(path, `${subject}: not in ${queue}`);
    const back = await readQueueFile(path);
    const g = goldenBySubject('daemon1', subject);
    assert.equal(
      normalizeContent(back.content, r.queueId),
      g.content.replace(
        /^Received: [^\n]*\n\t[^\n]*\n/,
        normalizeContent((await readQueueFile(path)).content, r.queueId)
          .split('\n')
          .slice(0, 2)
          .join('\n') + '\n',
      ),
      subject,
    );
    const gid = goldenId('daemon1', subject);
    await fx.waitLog(new RegExp(`${r.queueId}: message-id=`));
    assert.deepEqual(
      ourLog(fx, r.queueId).filter((l) => !l.includes('public/qmgr')),
      goldenLog('daemon1', gid).filter((l) => !l.includes('public/qmgr')),
      subject,
    );
    if (subject === 'redirect me') {
      assert.deepEqual(
        back.file.recipients.map((x) => [x.address, x.orig]),
        [['carol@example.com', 'bob@example.com']],
      );
    }
  }
});

test('DISCARD: acknowledged, nothing queued; REJECT without the bounce flag: refused with its reason', async (t) => {
  const { fx, cfg } = await checksSetup(t);
  const d = await submit(cfg, { content: 'Subject: discard me\n\nbody\n' });
  assert.equal(d.status, 0);
  const r = await submit(cfg, { content: 'Subject: reject me\n\nbody\n' });
  assert.equal(r.status, CLEANUP_STAT.CONT);
  assert.equal(r.reason, '5.7.1 no thanks');
  const b = await submit(cfg, { content: 'Subject: x\n\nbody\nbad body line\n' });
  assert.equal(b.status, CLEANUP_STAT.CONT);
  assert.equal(b.reason, '5.7.9 body says no');
  await sleep(100);
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')), []);
  assert.deepEqual(readdirSync(join(fx.queue, 'hold')), []);
  await fx.waitLog(new RegExp(`${d.queueId}: discard`));
  assert.deepEqual(ourLog(fx, d.queueId), goldenLog('daemon1', goldenId('daemon1', 'discard me')));
});

test('REJECT for pickup (bounce flag): bounced to the sender through the bounce service, as Postfix', async (t) => {
  const { fx, cfg } = await checksSetup(t);
  await fx.start('bounce');
  const r = await submit(cfg, {
    content: 'Subject: reject me\n\nbody\n',
    flags: PICKUP_FLAGS | CLEANUP_FLAG.BOUNCE,
  });
  assert.equal(r.status, 0, r.reason);
  await fx.waitLog(/sender non-delivery notification/);
  const ours = ourLog(fx, r.queueId);
  const gold = goldenLog('daemon1', goldenId('daemon1', 'reject me'));
  assert.deepEqual(ours, gold);
  // The notice is a new message from the null sender back to alice; the original is gone.
  const files = await fx.waitFiles('incoming', 1);
  assert.equal(files.length, 1);
  const notice = await readQueueFile(files[0] as string);
  assert.equal(notice.file.envelope.sender, '');
  assert.deepEqual(
    notice.file.recipients.map((x) => x.address),
    ['alice@example.com'],
  );
  assert.match(notice.content, /<bob@example.com>: no thanks/);
  assert.deepEqual(readdirSync(join(fx.queue, 'hold')), []);
  // PREPEND then a body REJECT: the order of the log lines as Postfix's.
  const p = await submit(cfg, {
    content: 'Subject: prepend me\n\nbody\nbad body line\n',
    flags: PICKUP_FLAGS | CLEANUP_FLAG.BOUNCE,
  });
  assert.equal(p.status, 0, p.reason);
  await fx.waitLog(new RegExp(`${p.queueId}: sender non-delivery notification`));
  assert.deepEqual(ourLog(fx, p.queueId), goldenLog('daemon1', goldenId('daemon1', 'prepend me')));
  const notices = await fx.waitFiles('incoming', 2);
  const second = await readQueueFile(notices.find((f) => f !== files[0]) as string);
  // The returned copy has the headers only (RET=HDRS for refused content), one empty
  // line before the closing boundary, as Postfix's (daemon1 golden).
  assert.match(
    second.content,
    /\nContent-Description: Undelivered Message Headers\nContent-Type: text\/rfc822-headers\n\nReturn-Path: <alice@example.com>\n[\s\S]*\nX-Tag: tagged\nSubject: prepend me\nMessage-Id: [^\n]*\nDate: [^\n]*\nFrom: root <alice@example.com>\n\n--[^\n]*--\n$/,
  );
  assert.doesNotMatch(second.content, /\nbody\n/);
});

test('hopcount_limit: too many Received: headers refused as "5.4.0 too many hops", with Postfix warning', async (t) => {
  const { fx, cfg } = await setup(t);
  let hops = '';
  for (let i = 0; i < 50; i++) hops += `Received: from h${i} by h${i}\n`;
  const r = await submit(cfg, { content: `${hops}Subject: hops\n\nbody\n` });
  assert.equal(r.status, CLEANUP_STAT.HOPS);
  assert.equal(r.reason, '5.4.0 too many hops');
  await fx.waitLog(/hopcount exceeded/);
  assert.ok(fx.log().includes(`warning: ${r.queueId}: message rejected: hopcount exceeded`));
  // 48 are fine: with ours, 49 hops.
  const ok = await submit(cfg, { content: `${hops.split('\n').slice(2).join('\n')}Subject: hops\n\nbody\n` });
  assert.equal(ok.status, 0, ok.reason);
});

test('hopcount_limit = 3 for local mail returned to its sender: warnings and bounce lines as Postfix (hops golden)', async (t) => {
  const { fx, cfg } = await setup(t, 'hopcount_limit = 3');
  await fx.start('bounce');
  const gold = readFileSync(join(GOLDEN, 'cleanup/hops/maillog.txt'), 'utf8').split('\n');
  for (const [n, name] of [
    [6, 'six'],
    [3, 'three'],
    [2, 'two'],
  ] as const) {
    let content = '';
    for (let i = 1; i <= n; i++) content += `Received: ${i}\n`;
    content += `Subject: ${name}\nMessage-ID: <${name}@x>\n\nbody\n`;
    const r = await submit(cfg, { content, flags: PICKUP_FLAGS | CLEANUP_FLAG.BOUNCE });
    assert.equal(r.status, 0, r.reason);
    await fx.waitLog(new RegExp(`${r.queueId}: to=<bob@example.com>.*status=bounced`));
    const gid = new RegExp(`: ([0-9A-F]+): message-id=<${name}@x>`).exec(gold.join('\n'))?.[1] as string;
    const want = normalizeLog(
      gold.filter((l) => l.includes(`${gid}: `) && l.includes('/cleanup[')).join('\n'),
      [gid],
    );
    const norm = (l: string[]) => l.map((x) => x.replace(/delay=\S+, delays=\S+,/, 'D'));
    assert.deepEqual(norm(ourLog(fx, r.queueId)), norm(want), name);
  }
});

test('message_size_limit, no recipients, table trouble: status bits and Postfix reply texts', async (t) => {
  const { fx, cfg } = await setup(t, 'message_size_limit = 100\nheader_checks = hash:/nonexistent/table');
  const big = await submit(cfg, { content: `Subject: big\n\n${'x'.repeat(200)}\n`, flags: 0 });
  assert.equal(big.status, CLEANUP_STAT.SIZE);
  assert.equal(big.reason, '5.3.4 message file too big');
  const none = await submit(cfg, { content: 'Subject: none\n\nbody\n', rcpts: [], flags: 0 });
  assert.equal(none.status, CLEANUP_STAT.RCPT);
  assert.equal(none.reason, '5.1.0 no recipients specified');
  // Table trouble: smtpd said "451 4.3.0 Error: queue file write error" (tempfail golden).
  const tf = await submit(cfg, { content: 'Subject: tf\n\nbody\n' });
  assert.equal(tf.status, CLEANUP_STAT.WRITE);
  assert.equal(tf.reason, '4.3.0 queue file write error');
  assert.match(
    readFileSync(join(GOLDEN, 'cleanup/tempfail/smtp.txt'), 'utf8'),
    /^451 4\.3\.0 Error: queue file write error/,
  );
  await fx.waitLog(/map lookup problem/);
  assert.match(
    fx.log(),
    new RegExp(
      `warning: ${tf.queueId}: header_checks map lookup problem -- message not accepted, try again later`,
    ),
  );
});

test('SMTP clients: Received: from helo (name [addr]) ... for <rcpt>, as Postfix smtpd+cleanup', async (t) => {
  const { fx, cfg } = await setup(t, 'undisclosed_recipients_header = To: undisclosed-recipients:;');
  const smtp = (proto: string, helo: string) => ({
    rewrite_context: 'local',
    client_name: 'localhost',
    client_address: '127.0.0.1',
    helo_name: helo,
    protocol_name: proto,
  });
  const cases: [string, Msg][] = [
    [
      'smtp one',
      {
        sender: 's@example.net',
        rcpts: ['one@example.com'],
        attrs: smtp('ESMTP', 'client.example.net'),
        content: 'Subject: smtp one\n\nbody\n',
      },
    ],
    [
      'smtp two',
      {
        sender: 's@example.net',
        rcpts: ['one@example.com', 'two@example.com'],
        attrs: smtp('ESMTP', 'client.example.net'),
        content: 'Subject: smtp two\n\nbody\n',
      },
    ],
    [
      'smtp helo',
      {
        sender: 's@example.net',
        rcpts: ['one@example.com'],
        attrs: smtp('SMTP', 'h.example.net'),
        content: 'Subject: smtp helo\nFrom: f@example.net\n\nbody\n',
      },
    ],
  ];
  for (const [subject, m] of cases) {
    const r = await submit(cfg, m);
    assert.equal(r.status, 0, r.reason);
    const path = (await fx.waitFiles('incoming', 1, 5000)).find((p) => basename(p) === r.queueId);
    assert.ok(path);
    const back = await readQueueFile(path);
    assert.equal(
      normalizeContent(back.content, r.queueId),
      goldenBySubject('daemon2', subject).content,
      subject,
    );
  }
});

test('enable_original_recipient = no: no original recipient records; delay_warning_time sets the warning time', async (t) => {
  const { fx, cfg } = await setup(t, 'enable_original_recipient = no\ndelay_warning_time = 4h');
  const r = await submit(cfg, { content: 'Subject: o\n\nbody\n' });
  assert.equal(r.status, 0);
  const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
  assert.deepEqual(
    back.file.recipients.map((x) => [x.address, x.orig]),
    [['bob@example.com', undefined]],
  );
  assert.equal(back.file.warnTime, back.file.envelope.arrival.sec + 4 * 3600);
});

test('a client that sends garbage or leaves early: warned, no file left, next client served', async (t) => {
  const { fx, cfg } = await setup(t);
  const sock = join(fx.queue, 'public', 'cleanup');
  await new Promise<void>((resolve) => {
    const s = connect(sock, () => s.end('this is not a record stream\n'));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
  const c = await CleanupClient.open(cfg, 0);
  await c.envelope({
    arrival: { sec: 1, usec: 0 },
    sender: 'a@example.com',
    recipients: [{ address: 'b@example.com' }],
  });
  await c.content(Buffer.from('Subject: cut\n\nhalf'));
  c.abort();
  await fx.waitLog(new RegExp(`${c.queueId}: .*message not accepted`));
  const ok = await submit(cfg, { content: 'Subject: after\n\nbody\n' });
  assert.equal(ok.status, 0);
  await sleep(50);
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')), [ok.queueId]);
  assert.match(fx.log(), /warning: client stream: stream ends inside a record -- message not accepted/);
  assert.match(
    fx.log(),
    new RegExp(`warning: ${c.queueId}: unexpected EOF from client -- message not accepted`),
  );
});

test('FILTER, BCC, header_size_limit, MIME nesting, hop count with Delivered-To: as Postfix (daemon4)', async (t) => {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-checks4-');
  writeFileSync(
    join(dir, 'header_checks'),
    '/^Subject: filter me/ FILTER smtp:[filter.example.com]:10025\n/^Subject: bcc me/ BCC spy@example.com\n',
  );
  const { fx, cfg } = await setup(
    t,
    `header_checks = regexp:${dir}/header_checks\nheader_size_limit = 100\nmime_nesting_limit = 1\nhopcount_limit = 3`,
  );
  const noReceived = (s: string) => s.replace(/^Received: [^\n]*\n\t[^\n]*\n/, '');
  const cases: [string, string][] = [
    ['filter me', 'Subject: filter me\n\nbody\n'],
    ['bcc me', 'Subject: bcc me\n\nbody\n'],
    [
      'long',
      `Subject: long\nX-Long: ${'a'.repeat(78)}\n ${'b'.repeat(55)}\n ${'c'.repeat(20)}\nX-After: yes\n\nbody\n`,
    ],
    [
      'nest',
      'Subject: nest\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="a"\n\n--a\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n\nx\n--b--\n--a--\n',
    ],
    ['dt3', 'Delivered-To: a\nDelivered-To: b\nDelivered-To: c\nReceived: x\nSubject: dt3\n\nbody\n'],
  ];
  for (const [subject, content] of cases) {
    const r = await submit(cfg, { content });
    assert.equal(r.status, 0, `${subject}: ${r.reason}`);
    const path = (await fx.waitFiles('incoming', 1)).find((p) => basename(p) === r.queueId);
    assert.ok(path, subject);
    const back = await readQueueFile(path);
    const g = goldenBySubject('daemon4', subject);
    const ours = normalizeContent(back.content, r.queueId);
    assert.equal(noReceived(ours), noReceived(g.content), subject);
    // Our Received: is cut at header_size_limit just as Postfix's was.
    assert.equal(ours.split('\n')[1]?.length, g.content.split('\n')[1]?.length, subject);
    if (subject === 'filter me')
      assert.equal(back.file.attributes.content_filter, 'smtp:[filter.example.com]:10025');
    if (subject === 'bcc me') {
      assert.deepEqual(
        back.file.recipients.map((x) => [x.address, x.orig, x.dsnNotify ?? 0]),
        [
          ['bob@example.com', 'bob@example.com', 0],
          ['spy@example.com', 'spy@example.com', 1],
        ],
      );
    }
    await fx.waitLog(new RegExp(`${r.queueId}: message-id=`));
    if (subject === 'filter me' || subject === 'bcc me') {
      const gold = readFileSync(join(GOLDEN, 'cleanup/daemon4/maillog.txt'), 'utf8')
        .split('\n')
        .find((l) => l.includes(`header Subject: ${subject}`)) as string;
      const gid = /: ([0-9A-F]+): /.exec(gold)?.[1] as string;
      const line = ourLog(fx, r.queueId).find((l) => l.includes(`header Subject: ${subject}`));
      assert.deepEqual([line], normalizeLog(gold, [gid]), subject);
    }
  }
  const r3 = await submit(cfg, { content: 'Received: x\nReceived: y\nReceived: z\nSubject: r3\n\nbody\n' });
  assert.equal(r3.status, CLEANUP_STAT.HOPS);
});

test('MIME nested deeper than mime_nesting_limit is queued, strict options on, as Postfix (nesting golden)', async (t) => {
  const { fx, cfg } = await setup(
    t,
    'mime_nesting_limit = 1\nstrict_8bitmime = yes\nstrict_mime_encoding_domain = yes',
  );
  const gold = readFileSync(join(GOLDEN, 'cleanup/nesting/maillog.txt'), 'utf8');
  assert.doesNotMatch(gold, /reject/);
  const n3 =
    'Subject: n3\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="a"\n\n--a\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: multipart/mixed; boundary="c"\n\n--c\n\nx\n--c--\n--b--\n--a--\n';
  const r2 =
    'Subject: r2\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\nSubject: in1\nContent-Type: message/rfc822\n\nSubject: in2\n\nx\n';
  for (const content of [n3, r2]) {
    const r = await submit(cfg, { content });
    assert.equal(r.status, 0, r.reason);
  }
  assert.equal((await fx.waitFiles('incoming', 2)).length, 2);
  assert.doesNotMatch(fx.log(), /reject/);
});

test('qmgr is told "A" after the commit; CLEANUP_FLAG_HOLD goes to hold/ and tells nobody; silent clients are dropped', async (t) => {
  const { fx, cfg } = await setup(t, 'ipc_timeout = 1s');
  const { createServer } = await import('node:net');
  const got: string[] = [];
  const qmgr = createServer((s) => {
    let b = '';
    s.on('data', (d) => {
      b += d.toString();
    });
    s.on('end', () => got.push(b));
  });
  await new Promise<void>((r) => qmgr.listen(join(fx.queue, 'public', 'qmgr'), r));
  t.after(() => qmgr.close());
  const r = await submit(cfg, { content: 'Subject: a\n\nbody\n' });
  assert.equal(r.status, 0);
  const until = Date.now() + 5000;
  while (got.length === 0 && Date.now() < until) await sleep(10);
  assert.deepEqual(got, ['A']);
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')), [r.queueId]);
  const h = await submit(cfg, { content: 'Subject: h\n\nbody\n', flags: PICKUP_FLAGS | CLEANUP_FLAG.HOLD });
  assert.equal(h.status, 0);
  assert.deepEqual(readdirSync(join(fx.queue, 'hold')), [h.queueId]);
  await sleep(100);
  assert.deepEqual(got, ['A']);
  assert.doesNotMatch(fx.log(), /unable to look up public\/qmgr/);
  // A client that opens a message and goes silent: dropped after ipc_timeout, its file removed.
  const c = await CleanupClient.open(cfg, 0);
  await c.envelope({
    arrival: { sec: 1, usec: 0 },
    sender: 'a@example.com',
    recipients: [{ address: 'b@example.com' }],
  });
  await fx.waitLog(new RegExp(`${c.queueId}: unexpected EOF from client`), 5000);
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')), [r.queueId]);
  c.abort();
});

test('check log lines: last recipient, SMTP client with proto and helo, MIME error with its line (daemon5)', async (t) => {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-checks5-');
  writeFileSync(
    join(dir, 'hc'),
    '/^Subject: warn me/ WARN watch this\n/^Subject: reject me/ REJECT no thanks\n',
  );
  const { fx, cfg } = await setup(t, `header_checks = regexp:${dir}/hc\nstrict_7bit_headers = yes`);
  await fx.start('bounce');
  const gold = readFileSync(join(GOLDEN, 'cleanup/daemon5/maillog.txt'), 'utf8').split('\n');
  const golden = (re: RegExp) => {
    const lines = gold.filter((l) => re.test(l) && l.includes('/cleanup['));
    const id = /: ([0-9A-F]+): /.exec(lines[0] ?? '')?.[1] as string;
    return {
      id,
      lines: normalizeLog(gold.filter((l) => l.includes(`${id}: `) && l.includes('/cleanup[')).join('\n'), [
        id,
      ]),
    };
  };
  const norm = (l: string[]) => l.map((x) => x.replace(/delay=\S+, delays=\S+,/, 'D'));
  const local = { rewrite_context: 'local', origin: 'uid=0', full_name: 'root' };
  const smtp = {
    rewrite_context: 'local',
    client_name: 'localhost',
    client_address: '127.0.0.1',
    helo_name: 'client.example.net',
    protocol_name: 'ESMTP',
  };
  const two = await submit(cfg, {
    rcpts: ['first@example.com', 'second@example.com'],
    attrs: local,
    content: 'Subject: warn me\n\nbody\n',
  });
  assert.equal(two.status, 0);
  const g1 = golden(/to=<second@example.com>/);
  await fx.waitLog(new RegExp(`${two.queueId}: message-id`));
  assert.deepEqual(ourLog(fx, two.queueId), g1.lines);

  const c = await CleanupClient.open(cfg, PICKUP_FLAGS | CLEANUP_FLAG.BOUNCE);
  await c.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: 'alice@example.com',
    recipients: [{ address: 'bob@example.com' }],
    attributes: local,
  });
  await c.content(Buffer.from('Subject: café\n\nbody\n', 'utf8'));
  const eight = await c.finish();
  assert.equal(eight.status, 0, fx.log());
  const g2 = golden(/mime-error/);
  await fx.waitLog(/sender non-delivery notification/);
  assert.deepEqual(norm(ourLog(fx, eight.queueId)), norm(g2.lines));

  const w = await submit(cfg, {
    sender: 's@example.net',
    rcpts: ['one@example.com'],
    attrs: smtp,
    content: 'Subject: warn me\n\nbody\n',
  });
  assert.equal(w.status, 0);
  const g3 = golden(/proto=ESMTP helo=<client.example.net>: watch this/);
  await fx.waitLog(new RegExp(`${w.queueId}: message-id`));
  assert.deepEqual(ourLog(fx, w.queueId), g3.lines);

  const rj = await submit(cfg, {
    sender: 's@example.net',
    rcpts: ['one@example.com'],
    attrs: smtp,
    content: 'Subject: reject me\n\nbody\n',
  });
  assert.equal(rj.status, CLEANUP_STAT.CONT);
  // smtpd's reply was "550 5.7.1 no thanks": the reason is the text after the code.
  assert.equal(`550 ${rj.reason}`, readFileSync(join(GOLDEN, 'cleanup/daemon5/smtp.txt'), 'utf8').trim());
  const g4 = golden(/reject: header Subject: reject me/);
  await sleep(50);
  assert.deepEqual(
    ourLog(fx, rj.queueId),
    g4.lines.filter((l) => !l.includes('message-id')),
  );
});

test('a remote client (not in local_header_rewrite_clients): nothing added, headers not rewritten, message-id=<> (remote golden)', async (t) => {
  const { fx, cfg } = await setup(t);
  const r = await submit(cfg, {
    sender: 's@example.net',
    rcpts: ['one@example.com'],
    attrs: {
      rewrite_context: 'remote',
      client_name: 'localhost',
      client_address: '127.0.0.1',
      helo_name: 'client.example.net',
      protocol_name: 'ESMTP',
    },
    content: 'Subject: remote\nTo: x\n\nbody\n',
  });
  assert.equal(r.status, 0);
  const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
  assert.equal(normalizeContent(back.content, r.queueId), goldenBySubject('remote', 'remote').content);
  await fx.waitLog(/message-id=/);
  const gold = readFileSync(join(GOLDEN, 'cleanup/remote/maillog.txt'), 'utf8');
  const gid = /: ([0-9A-F]+): message-id/.exec(gold)?.[1] as string;
  assert.deepEqual(
    ourLog(fx, r.queueId),
    normalizeLog(
      gold
        .split('\n')
        .filter((l) => l.includes(`${gid}: `) && l.includes('/cleanup['))
        .join('\n'),
      [gid],
    ),
  );
  // always_add_missing_headers = yes adds them for everyone.
  const { fx: fx2, cfg: cfg2 } = await setup(t, 'always_add_missing_headers = yes');
  const r2 = await submit(cfg2, {
    attrs: { rewrite_context: 'remote' },
    content: 'Subject: remote\nTo: x\n\nbody\n',
  });
  assert.equal(r2.status, 0);
  const back2 = await readQueueFile((await fx2.waitFiles('incoming', 1))[0] as string);
  assert.match(
    back2.content,
    /\nMessage-Id: <\d{14}\.[0-9A-F]+@mx\.example\.com>\nDate: .*\nFrom: alice@example.com\n\n/,
  );
});

test("header_checks see our Received: header, as Postfix's do", async (t) => {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-rcvd-');
  writeFileSync(
    join(dir, 'hc'),
    '/^Received: by mx\\.example\\.com \\(Postfix, from userid/ WARN local one\n',
  );
  const { fx, cfg } = await setup(t, `header_checks = regexp:${dir}/hc`);
  const r = await submit(cfg, { content: 'Subject: x\n\nbody\n' });
  assert.equal(r.status, 0);
  await fx.waitLog(/local one/);
  assert.match(
    fx.log(),
    new RegExp(
      `${r.queueId}: warning: header Received: by mx.example.com \\(Postfix, from userid 0\\)\\?\\?id ${r.queueId};`,
    ),
  );
});

test('a message forwarded by local (internal client): Received: by HOST (Postfix), as Postfix (forward golden)', async (t) => {
  const { fx, cfg } = await setup(t);
  const g = goldenBySubject('forward', 'fwd');
  const text = readFileSync(join(GOLDEN, 'cleanup/forward/postcat.txt'), 'utf8');
  const raw = text.slice(text.indexOf('Delivered-To:'), text.indexOf('*** HEADER EXTRACTED'));
  const r = await submit(cfg, {
    rcpts: [{ address: 'x@remote.test', orig: 'fwd' }],
    attrs: { rewrite_context: 'local' },
    content: raw,
    flags: CLEANUP_FLAG.MAP_OK,
  });
  assert.equal(r.status, 0);
  const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
  // The forwarded copy's own headers are kept as they came (they hold the first message's ID).
  assert.equal(normalizeContent(back.content, r.queueId), g.content);
  assert.deepEqual(
    back.file.recipients.map((x) => [x.address, x.orig]),
    [['x@remote.test', 'fwd']],
  );
});

test('an SMTP client over IPv6: Received: from helo (unknown [IPv6:::1]), as Postfix (ipv6 golden)', async (t) => {
  const { fx, cfg } = await setup(t);
  const r = await submit(cfg, {
    sender: 's@example.net',
    rcpts: ['one@example.com'],
    attrs: {
      rewrite_context: 'local',
      client_name: 'unknown',
      client_address: '::1',
      helo_name: 'v6.example.net',
      protocol_name: 'ESMTP',
    },
    content: 'Subject: v6\n\nbody\n',
  });
  assert.equal(r.status, 0);
  const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
  assert.equal(normalizeContent(back.content, r.queueId), goldenBySubject('ipv6', 'v6').content);
});

test('smtpd_sasl_authenticated_header: the SASL login in Received:, only when asked for', async (t) => {
  const attrs = {
    rewrite_context: 'local',
    client_name: 'c.example.net',
    client_address: '192.0.2.7',
    helo_name: 'c.example.net',
    protocol_name: 'ESMTPSA',
    sasl_method: 'PLAIN',
    sasl_username: 'alice',
  };
  for (const on of [true, false]) {
    const { fx, cfg } = await setup(t, `smtpd_sasl_authenticated_header = ${on ? 'yes' : 'no'}`);
    const r = await submit(cfg, { rcpts: ['one@example.com'], attrs, content: 'Subject: s\n\nbody\n' });
    assert.equal(r.status, 0);
    const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
    const head = back.content.split('\n').slice(0, on ? 4 : 3);
    assert.deepEqual(head.slice(0, on ? 3 : 2), [
      'Received: from c.example.net (c.example.net [192.0.2.7])',
      ...(on ? ['\t(Authenticated sender: alice)'] : []),
      `\tby mx.example.com (Postfix) with ESMTPSA id ${r.queueId}`,
    ]);
  }
});

test('a remote client: Return-Path:, Content-Length: and Bcc: removed all the same (remote2 golden)', async (t) => {
  const { fx, cfg } = await setup(t);
  const r = await submit(cfg, {
    sender: 's@example.net',
    rcpts: ['one@example.com'],
    attrs: {
      rewrite_context: 'remote',
      client_name: 'localhost',
      client_address: '127.0.0.1',
      helo_name: 'client.example.net',
      protocol_name: 'ESMTP',
    },
    content: 'Return-Path: <x@y>\nContent-Length: 3\nBcc: hidden@example.org\nSubject: remote2\n\nbody\n',
  });
  assert.equal(r.status, 0);
  const back = await readQueueFile((await fx.waitFiles('incoming', 1))[0] as string);
  const gold = readFileSync(join(GOLDEN, 'cleanup/remote2/out.txt'), 'utf8');
  const gid = /incoming\/([0-9A-F]+) \*\*\*/.exec(gold)?.[1] as string;
  const body = gold.slice(
    gold.indexOf('\n', gold.indexOf('MESSAGE CONTENTS')) + 1,
    gold.indexOf('*** HEADER EXTRACTED'),
  );
  assert.equal(normalizeContent(back.content, r.queueId), normalizeContent(body, gid));
});

test('header_checks REPLACE, STRIP, INFO, PASS: stored headers and log lines as Postfix (actions2 golden)', async (t) => {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-act2-');
  writeFileSync(
    join(dir, 'hc'),
    '/^Subject: replace me/ REPLACE Subject: replaced\n/^X-Strip:/ STRIP stripped it\n/^X-Info:/ INFO noted\n/^Subject: pass me/ PASS passing\n/^X-After-Pass:/ REJECT should not fire\n',
  );
  const { fx, cfg } = await setup(t, `header_checks = regexp:${dir}/hc`);
  const gold = readFileSync(join(GOLDEN, 'cleanup/actions2/out.txt'), 'utf8');
  const parts = gold.split('*** MESSAGE CONTENTS ').slice(1);
  const inputs = [
    'Subject: replace me\nX-Strip: a\nX-Info: b\n\nbody\n',
    'Subject: pass me\nX-After-Pass: yes\n\nbody\n',
  ];
  for (const [i, input] of inputs.entries()) {
    const part = parts[i] as string;
    const gid = /incoming\/([0-9A-F]+) \*\*\*/.exec(part)?.[1] as string;
    const body = part.slice(part.indexOf('\n') + 1, part.indexOf('*** HEADER EXTRACTED'));
    const r = await submit(cfg, { content: input });
    assert.equal(r.status, 0, r.reason);
    const path = (await fx.waitFiles('incoming', i + 1)).find((p) => basename(p) === r.queueId) as string;
    const back = await readQueueFile(path);
    assert.equal(normalizeContent(back.content, r.queueId), normalizeContent(body, gid));
    await fx.waitLog(new RegExp(`${r.queueId}: message-id`));
    const want = normalizeLog(
      gold
        .split('\n')
        .filter((l) => l.includes(`${gid}: `))
        .join('\n'),
      [gid],
    );
    assert.deepEqual(ourLog(fx, r.queueId), want);
  }
});

test('mime_header_checks, nested_header_checks, body_checks on MIME parts: log lines as Postfix (mime_checks golden)', async (t) => {
  const dir = (await import('../harness/index.js')).tempDir(t, 'postroom-mh-');
  writeFileSync(join(dir, 'hc'), '/^Subject:/ WARN primary\n');
  writeFileSync(join(dir, 'mh'), '/^Content-Type: text/ WARN mime\n');
  writeFileSync(join(dir, 'nh'), '/^Subject: inner/ WARN nested\n');
  writeFileSync(join(dir, 'bc'), '/^--b$/ WARN boundary\n');
  const { fx, cfg } = await setup(
    t,
    `header_checks = regexp:${dir}/hc\nmime_header_checks = regexp:${dir}/mh\nnested_header_checks = regexp:${dir}/nh\nbody_checks = regexp:${dir}/bc`,
  );
  const r = await submit(cfg, {
    content:
      'Subject: outer\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ny\n--b--\n',
  });
  assert.equal(r.status, 0);
  await fx.waitLog(/nested$/m);
  const gold = readFileSync(join(GOLDEN, 'cleanup/mime_checks/maillog.txt'), 'utf8');
  const gid = /: ([0-9A-F]+): message-id/.exec(gold)?.[1] as string;
  const want = normalizeLog(
    gold
      .split('\n')
      .filter((l) => l.includes(`${gid}: `))
      .join('\n'),
    [gid],
  );
  assert.deepEqual(ourLog(fx, r.queueId), want);
});
