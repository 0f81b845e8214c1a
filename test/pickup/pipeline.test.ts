/*
 * sendmail -> maildrop -> pickup -> cleanup -> incoming, all as processes,
 * compared with what Postfix 3.7 made of the same submissions
 * (test/golden/cleanup/daemon1, daemon2: recorded by record_daemon*.sh).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { daemonSetup, normalizeLog, readQueueFile } from '../cleanup/daemon_fixture.js';
import { goldenBySubject, normalizeContent } from '../cleanup/golden_postcat.js';
import { GOLDEN } from '../harness/index.js';

/** Our message for `input`, submitted with sendmail `args` as in the golden run. */
async function submitted(t: import('node:test').TestContext, extra: string, args: string[], input: string) {
  const fx = await daemonSetup(t, extra);
  await fx.start('cleanup');
  await fx.start('pickup');
  const r = fx.sendmail(args, input);
  assert.equal(r.status, 0, r.stderr);
  await fx.kick();
  const files = await fx.waitFiles('incoming', 1);
  assert.equal(files.length, 1, fx.log());
  const path = files[0] as string;
  const id = basename(path);
  const back = await readQueueFile(path);
  // The file goes only after cleanup took it.
  const until = Date.now() + 5000;
  while (readdirSync(join(fx.queue, 'maildrop')).length > 0 && Date.now() < until)
    await new Promise((res) => setTimeout(res, 20));
  return { fx, id, back, content: normalizeContent(back.content, id) };
}

const uid = process.getuid?.() ?? 0;
const asRecorded = (s: string) => s.replace('from userid 0)', `from userid ${uid})`);

test('a plain local submission gets Received, Message-Id, Date, From as in Postfix; duplicates go', async (t) => {
  const g = goldenBySubject('daemon1', 'plain');
  const { fx, id, back, content } = await submitted(
    t,
    '',
    ['-F', 'root', '-f', 'alice@example.com', 'bob@example.com', 'bob@example.com', 'BOB@example.com'],
    'Subject: plain\n\nbody\n',
  );
  // Case does not count either (test/golden/cleanup/dup: Postfix kept one of four).
  assert.match(
    readFileSync(join(GOLDEN, 'cleanup/dup/recipients.txt'), 'utf8'),
    /^original_recipient: bob@example.com\nrecipient: bob@example.com\n$/,
  );
  assert.equal(content, asRecorded(g.content));
  assert.equal(back.file.envelope.sender, g.sender);
  assert.deepEqual(
    back.file.recipients.map((r) => r.address),
    g.recipients,
  );
  assert.deepEqual(
    back.file.recipients.map((r) => r.orig),
    g.origRecipients,
  );
  assert.equal(back.file.attributes.rewrite_context, 'local');
  assert.deepEqual(readdirSync(join(fx.queue, 'maildrop')), []);
  const log = normalizeLog(await fx.waitLog(/message-id=/), [id]);
  assert.deepEqual(
    log.filter((l) => !l.includes('warning: unable to look up public/qmgr')),
    [
      `postfix/pickup[PID]: ID0: uid=${uid} from=<alice@example.com>`,
      'postfix/cleanup[PID]: ID0: message-id=<STAMP.ID0@mx.example.com>',
    ],
  );
});

for (const subject of ['bcc', 'complete', 'resent']) {
  test(`header rules as Postfix: ${subject}`, async (t) => {
    const inputs: Record<string, [string[], string]> = {
      bcc: [
        ['-F', 'root', '-f', 'alice@example.com', 'bob@example.com'],
        'To: bob@example.com\nBcc: secret@example.com\nSubject: bcc\n\nbody\n',
      ],
      complete: [
        ['-F', 'root', '-f', 'al@example.org', 'bob@example.com'],
        'From: Al <al@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <m1@example.org>\nTo: bob@example.com\nSubject: complete\n\nbody\n',
      ],
      resent: [
        ['-F', 'root', '-f', 'r@example.org', 'bob@example.com'],
        'Resent-From: r@example.org\nFrom: a@example.org\nSubject: resent\n\nbody\n',
      ],
    };
    const [args, input] = inputs[subject] as [string[], string];
    const g = goldenBySubject('daemon1', subject);
    const { fx, id, content } = await submitted(t, '', args, input);
    assert.equal(content, asRecorded(g.content));
    const log = normalizeLog(await fx.waitLog(/message-id=/), [id]).filter((l) => l.includes('cleanup'));
    if (subject === 'complete')
      assert.ok(log.includes('postfix/cleanup[PID]: ID0: message-id=<m1@example.org>'));
    if (subject === 'resent') {
      assert.deepEqual(log.slice(0, 2), [
        'postfix/cleanup[PID]: ID0: resent-message-id=<STAMP.ID0@mx.example.com>',
        'postfix/cleanup[PID]: ID0: message-id=<>',
      ]);
    }
  });
}

test('From: forms (null sender, no full name, quoted name) and undisclosed_recipients_header', async (t) => {
  const extra = 'undisclosed_recipients_header = To: undisclosed-recipients:;';
  const cases: [string, string[]][] = [
    ['nullsender', ['-F', 'root', '-f', '', 'bob@example.com']],
    ['quoted', ['-F', 'A. B (C)', '-f', 'x@example.com', 'bob@example.com']],
  ];
  for (const [subject, args] of cases) {
    const g = goldenBySubject('daemon2', subject);
    const { content } = await submitted(t, extra, args, `Subject: ${subject}\n\nbody\n`);
    assert.equal(content, asRecorded(g.content), subject);
  }
});

test('sendmail -t: Bcc: gone, extracted recipients kept', async (t) => {
  const g = goldenBySubject('daemon1', 'extract');
  const { back, content } = await submitted(
    t,
    '',
    ['-F', 'root', '-t', '-f', 'alice@example.com'],
    'To: t1@example.com, t2@example.com\nCc: t3@example.com\nBcc: t4@example.com\nSubject: extract\n\nbody\n',
  );
  assert.equal(content, asRecorded(g.content));
  assert.deepEqual(
    back.file.recipients.map((r) => r.address),
    g.recipients,
  );
});

test('address mapping as Postfix: canonical, virtual aliases, bcc, header rewriting, unqualified addresses', async (t) => {
  const base = (await import('../harness/index.js')).tempDir(t, 'postroom-maps-');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(base, 'virtual'),
    'robert@example.com r1@example.com, r2@example.com\nlist@example.com a@example.com, b@example.com\n',
  );
  const extra = [
    'sender_canonical_maps = inline:{ alice@example.com=alice.smith@example.net }',
    'canonical_maps = inline:{ bob@example.com=robert@example.com }',
    `virtual_alias_maps = texthash:${base}/virtual`,
    'sender_bcc_maps = inline:{ alice.smith@example.net=archive@example.com }',
    'always_bcc = audit@example.com',
  ].join('\n');
  const sorted = (b: Awaited<ReturnType<typeof readQueueFile>>) =>
    b.file.recipients.map((r) => `${r.address} ${r.orig} ${r.dsnNotify ?? 0}`).sort();
  const golden = (subject: string) => {
    const g = goldenBySubject('daemon3', subject);
    return { g, content: asRecorded(g.content) };
  };
  {
    const { g, content: want } = golden('mapped');
    const { back, content, fx, id } = await submitted(
      t,
      extra,
      ['-F', 'root', '-f', 'alice@example.com', 'bob@example.com', 'list@example.com'],
      'To: bob@example.com, Carol <carol>\nCc: list@example.com\nSubject: mapped\n\nbody\n',
    );
    assert.equal(content, want);
    assert.equal(back.file.envelope.sender, g.sender);
    assert.deepEqual(sorted(back), [
      'a@example.com list@example.com 0',
      'archive@example.com archive@example.com 1',
      'audit@example.com audit@example.com 1',
      'b@example.com list@example.com 0',
      'r1@example.com bob@example.com 0',
      'r2@example.com bob@example.com 0',
    ]);
    const log = normalizeLog(await fx.waitLog(/message-id=/), [id]);
    assert.equal(log[0], `postfix/pickup[PID]: ID0: uid=${uid} from=<alice@example.com>`);
  }
  {
    const { g, content: want } = golden('short');
    const { back, content } = await submitted(
      t,
      extra,
      ['-F', 'root', '-f', 'alice', 'carol'],
      'Subject: short\n\nbody\n',
    );
    assert.equal(content, want);
    assert.equal(back.file.envelope.sender, g.sender);
    assert.deepEqual(sorted(back), ['audit@example.com audit@example.com 1', 'carol@mx.example.com carol 0']);
  }
});

test('receive_override_options = no_header_body_checks reaches cleanup through pickup', async (t) => {
  const base = (await import('../harness/index.js')).tempDir(t, 'postroom-ro-');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(base, 'hc'), '/^Subject: hold me/ HOLD\n');
  const { fx } = await submitted(
    t,
    `header_checks = regexp:${base}/hc\nreceive_override_options = no_header_body_checks`,
    ['-f', 'alice@example.com', 'bob@example.com'],
    'Subject: hold me\n\nbody\n',
  );
  assert.deepEqual(readdirSync(join(fx.queue, 'hold')), []);
  assert.doesNotMatch(fx.log(), /hold: header/);
});

test('DSN requests (sendmail -N -R -V) reach the queue file through pickup and cleanup', async (t) => {
  const { back } = await submitted(
    t,
    '',
    ['-N', 'success,delay', '-R', 'hdrs', '-V', 'env-42', '-f', 'alice@example.com', 'bob@example.com'],
    'Subject: dsn\n\nbody\n',
  );
  assert.equal(back.file.envelope.dsnEnvid, 'env-42');
  assert.equal(back.file.envelope.dsnRet, 2);
  assert.deepEqual(
    back.file.recipients.map((r) => [r.address, r.dsnNotify]),
    [['bob@example.com', 2 | 8]],
  );
});

test('content edge cases as Postfix: no header, empty, headers only, no empty line, long line, folded headers', async (t) => {
  const { goldenMessages } = await import('../cleanup/golden_postcat.js');
  const gold = goldenMessages('daemon6');
  const cases: [string, string][] = [
    ['e1@example.com', 'hello world\nsecond\n'],
    ['e2@example.com', ''],
    ['e3@example.com', 'Subject: headers only\n'],
    ['e4@example.com', 'Subject: no blank\nthis is body\n'],
    ['e5@example.com', `Subject: long\n\n${'x'.repeat(5000)}\n`],
    ['e6@example.com', 'Subject: folded\n  across lines\nTo: a@example.com,\n\tb@example.com\n\nbody\n'],
  ];
  for (const [sender, input] of cases) {
    const g = gold.find((m) => m.sender === sender);
    assert.ok(g, sender);
    const { content } = await submitted(t, '', ['-i', '-F', 'root', '-f', sender, 'bob@example.com'], input);
    assert.equal(content, asRecorded(g.content), sender);
  }
});

test('headers cleanup removes (Return-Path, Content-Length, bcc) and Message-IDs logged each, as Postfix (special golden)', async (t) => {
  const input =
    'Return-Path: <x@example.org>\nContent-Length: 12\nX-Original-To: y\nDelivered-To: z@example.org\nApparently-To: w@example.org\nSubject: special\nMessage-ID: <a@b>\nMessage-ID: <c@d>\nX-Bcc: keep\nbcc: lower@example.org\n\nbody\n';
  const { fx, id, content } = await submitted(
    t,
    '',
    ['-F', 'root', '-f', 'alice@example.com', 'bob@example.com'],
    input,
  );
  const gold = readFileSync(join(GOLDEN, 'cleanup/special/out.txt'), 'utf8');
  const gid = /incoming\/([0-9A-F]+) \*\*\*/.exec(gold)?.[1] as string;
  const body = gold.slice(
    gold.indexOf('\n', gold.indexOf('MESSAGE CONTENTS')) + 1,
    gold.indexOf('*** HEADER EXTRACTED'),
  );
  assert.equal(content, asRecorded(normalizeContent(body, gid)));
  await fx.waitLog(/message-id=<c@d>/);
  const ours = normalizeLog(fx.log(), [id]).filter((l) => l.includes('message-id'));
  const want = normalizeLog(
    gold
      .split('\n')
      .filter((l) => l.includes('message-id'))
      .join('\n'),
    [gid],
  );
  assert.deepEqual(ours, want);
});

test("pickup's content_filter reaches the queue file; mail from the null sender gets no delay warning time", async (t) => {
  const filtered = await submitted(
    t,
    'content_filter = scan:[127.0.0.1]:10025\ndelay_warning_time = 4h',
    ['-f', 'alice@example.com', 'bob@example.com'],
    'Subject: filter me\n\nbody\n',
  );
  assert.equal(filtered.back.file.attributes.content_filter, 'scan:[127.0.0.1]:10025');
  assert.ok(filtered.back.file.warnTime > 0, 'a delay warning is due for ordinary mail');
  const bounce = await submitted(
    t,
    'delay_warning_time = 4h',
    ['-f', '', 'bob@example.com'],
    'Subject: b\n\nx\n',
  );
  assert.equal(bounce.back.file.attributes.content_filter, undefined);
  assert.equal(bounce.back.file.warnTime, 0);
});

test('without a client ORCPT, the DSN original recipient is the qualified address, before virtual aliasing', async (t) => {
  const { back } = await submitted(
    t,
    'virtual_alias_maps = inline:{ {list@example.com=a@example.net, b@example.net} }',
    ['-f', 'alice@example.com', 'bob', 'list@example.com'],
    'Subject: orcpt\n\nbody\n',
  );
  // myorigin is $myhostname (mx.example.com) in the fixture.
  assert.deepEqual(
    back.file.recipients.map((r) => [r.address, r.dsnOrcpt]),
    [
      ['bob@mx.example.com', 'rfc822;bob@mx.example.com'],
      ['a@example.net', 'rfc822;list@example.com'],
      ['b@example.net', 'rfc822;list@example.com'],
    ],
  );
});
