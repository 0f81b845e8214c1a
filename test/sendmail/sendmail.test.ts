/*
 * sendmail: real processes fed by real pipes; the maildrop file is read
 * back with the queue file reader. Error paths compare with golden output
 * recorded from Postfix 3.7's sendmail (test/golden/sendmail/errors.json).
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DSN_NOTIFY, DSN_RET } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { gecosName } from '../../src/sendmail/gecos.js';
import { GOLDEN, ours, postfixCommand, tempDir } from '../harness/index.js';
import { maildropSetup } from './fixture.js';

async function readDrop(maildrop: string) {
  const files = readdirSync(maildrop);
  assert.equal(files.length, 1, `one file in maildrop: ${files.join(' ')}`);
  const r = await openQueueFile(join(maildrop, files[0] as string));
  assert.ok(r.ok, 'maildrop file is complete');
  const chunks: Buffer[] = [];
  for await (const b of r.file.contentBytes()) chunks.push(Buffer.from(b));
  const out = { env: r.file.envelope, content: Buffer.concat(chunks) };
  await r.file.close();
  return out;
}

test('plain submission: envelope from arguments, default sender is the user', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, 'a@example.com', 'b@example.com'], {
    input: 'Subject: hi\n\nline 1\n',
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const m = await readDrop(maildrop);
  assert.equal(m.env.sender, userInfo().username);
  assert.deepEqual(
    m.env.recipients.map((x) => x.address),
    ['a@example.com', 'b@example.com'],
  );
  assert.equal(m.content.toString(), 'Subject: hi\n\nline 1\n');
});

test('dot line ends the message unless -i or -oi; CRLF becomes LF; 8-bit and NUL kept', async (t) => {
  const input = Buffer.concat([
    Buffer.from('Subject: x\r\n\r\n\xe9t\xe9\0\n', 'latin1'),
    Buffer.from('.\nafter\nno-newline'),
  ]);
  for (const [flags, want] of [
    [[], 'Subject: x\n\n\xe9t\xe9\0\n'],
    [['-i'], 'Subject: x\n\n\xe9t\xe9\0\n.\nafter\nno-newline\n'],
    [['-oi'], 'Subject: x\n\n\xe9t\xe9\0\n.\nafter\nno-newline\n'],
  ] as const) {
    const { conf, maildrop } = maildropSetup(t);
    const r = ours('sendmail', ['-C', conf, ...flags, 'u@x'], { input });
    assert.equal(r.status, 0, r.stderr);
    const m = await readDrop(maildrop);
    assert.equal(m.content.toString('latin1'), want, flags.join(' '));
  }
});

test('-t: recipients from To/Cc/Bcc (comments, groups, folding), Bcc removed, added to command line', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const input = [
    'From: me@example.com',
    'To: "Doe, John" <john@example.com>, (comment) ann@example.com (Ann)',
    'Cc: friends: bob@example.com,',
    '\tcarol@example.com;, <@route.example:dave@example.com>',
    'Bcc: secret@example.com,',
    ' hidden@example.com',
    'Subject: test',
    '',
    'To: not-a-header@example.com',
    '',
  ].join('\n');
  const r = ours('sendmail', ['-C', conf, '-t', 'extra@example.com'], { input });
  assert.equal(r.status, 0, r.stderr);
  const m = await readDrop(maildrop);
  assert.deepEqual(
    m.env.recipients.map((x) => x.address),
    [
      'extra@example.com',
      'john@example.com',
      'ann@example.com',
      'bob@example.com',
      'carol@example.com',
      '@route.example:dave@example.com',
      'secret@example.com',
      'hidden@example.com',
    ],
  );
  const text = m.content.toString();
  assert.ok(!/secret|hidden|Bcc/i.test(text), text);
  assert.ok(text.includes('Subject: test\n\nTo: not-a-header@example.com\n'));
});

test('-t: Resent- headers take over', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const input = 'To: old@example.com\nResent-To: new@example.com\nResent-Bcc: b@example.com\n\nx\n';
  const r = ours('sendmail', ['-C', conf, '-t'], { input });
  assert.equal(r.status, 0, r.stderr);
  const m = await readDrop(maildrop);
  assert.deepEqual(
    m.env.recipients.map((x) => x.address),
    ['new@example.com', 'b@example.com'],
  );
  assert.ok(!m.content.toString().includes('Resent-Bcc'));
});

test('-f/-r sender (<> is the null sender), -F, -N, -R, -V', async (t) => {
  const cases: [string[], string][] = [
    [['-f', '<s@example.com>'], 's@example.com'],
    [['-r', 'r@example.com'], 'r@example.com'],
    [['-f', '<>'], ''],
    [['-f', ''], ''],
    [['-f', 'Joe User <j@example.com>'], 'j@example.com'],
  ];
  for (const [flags, sender] of cases) {
    const { conf, maildrop } = maildropSetup(t);
    const r = ours('sendmail', ['-C', conf, ...flags, 'u@x'], { input: 'x\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await readDrop(maildrop)).env.sender, sender);
  }
  const { conf, maildrop } = maildropSetup(t);
  const r = ours(
    'sendmail',
    ['-C', conf, '-F', 'Full Name', '-N', 'success,delay', '-R', 'hdrs', '-V', 'env-1', '-B8BITMIME', 'u@x'],
    { input: 'x\n' },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = await readDrop(maildrop);
  assert.equal(m.env.attributes?.full_name, 'Full Name');
  assert.equal(m.env.recipients[0]?.dsnNotify, DSN_NOTIFY.SUCCESS | DSN_NOTIFY.DELAY);
  assert.equal(m.env.dsnRet, DSN_RET.HDRS);
  assert.equal(m.env.dsnEnvid, 'env-1');
});

test('ignored options are accepted', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours(
    'sendmail',
    ['-C', conf, '-c', '-G', '-U', '-x', '-m', '-em', '-h5', '-pfoo', '-Lx', '-Ox=y', '-oQ', '-bm', 'u@x'],
    {
      input: 'x\n',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await readDrop(maildrop)).env.recipients.length, 1);
});

type Golden = { args: string[]; input: string; mainCf: string; stderr: string[]; status: number };
const golden = JSON.parse(readFileSync(join(GOLDEN, 'sendmail/errors.json'), 'utf8')) as Record<
  string,
  Golden
>;
const who = `${userInfo().username}(${userInfo().uid})`;

for (const [name, g] of Object.entries(golden)) {
  test(`golden: ${name} (stderr, exit status, maildrop)`, (t) => {
    const { conf, maildrop } = maildropSetup(t, g.mainCf);
    const r = ours('sendmail', ['-C', conf, ...g.args], { input: g.input });
    const want = g.stderr.map((l) => l.replaceAll('USER(UID)', who));
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l !== ''),
      want,
    );
    assert.equal(r.status, g.status);
    // Failed submissions leave nothing behind, not even a temporary file.
    assert.equal(readdirSync(maildrop).length, g.status === 0 ? 1 : 0);
  });
}

test('-bs needs smtpd, which is not written yet: EX_UNAVAILABLE', (t) => {
  const { conf } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, '-bs'], { input: '' });
  assert.equal(r.status, 69);
  assert.match(r.stderr, /^sendmail: fatal: -bs: not available yet/);
});

test('-bp, -q, -qRsite, -bi and -I hand over to postqueue and newaliases, as Postfix', (t) => {
  const { conf } = maildropSetup(t);
  const same = (mode: string[], cmd: string, args: string[]) => {
    const a = ours('sendmail', ['-C', conf, ...mode], { input: '' });
    const b = ours(cmd, ['-c', conf, ...args], { input: '' });
    assert.equal(a.status, b.status, mode.join(' '));
    assert.equal(a.stdout, b.stdout, mode.join(' '));
    assert.equal(
      a.stderr.replaceAll('postqueue:', 'x:'),
      b.stderr.replaceAll('postqueue:', 'x:'),
      mode.join(' '),
    );
  };
  // The queue is empty and no mail system runs: postqueue's own answers.
  same(['-bp'], 'postqueue', ['-p']);
  same(['-q'], 'postqueue', ['-f']);
  same(['-q30m'], 'postqueue', ['-f']);
  same(['-qRexample.com'], 'postqueue', ['-s', 'example.com']);
  same(['-bi'], 'newaliases', []);
  same(['-I'], 'newaliases', []);
});

test('missing maildrop or main.cf: fatal, EX_TEMPFAIL, no stack trace', (t) => {
  const d = tempDir(t);
  let r = ours('sendmail', ['-C', join(d, 'nope'), 'u@x'], { input: 'x\n' });
  assert.equal(r.stderr, `sendmail: fatal: open ${join(d, 'nope', 'main.cf')}: No such file or directory\n`);
  assert.equal(r.status, 75);
  writeFileSync(join(d, 'main.cf'), `queue_directory = ${d}/q\n`);
  r = ours('sendmail', ['-C', d, 'u@x'], { input: 'x\n' });
  assert.equal(r.stderr, `sendmail: fatal: chdir ${d}/q: No such file or directory\n`);
  assert.equal(r.status, 75);
  writeFileSync(join(d, 'main.cf'), 'message_size_limit = abc\n');
  r = ours('sendmail', ['-C', d, 'u@x'], { input: 'x\n' });
  assert.equal(r.stderr, 'sendmail: fatal: bad numerical configuration: message_size_limit = abc\n');
  assert.equal(r.status, 75);
  mkdirSync(join(d, 'q'));
  writeFileSync(join(d, 'main.cf'), `queue_directory = ${d}/q\n`);
  r = ours('sendmail', ['-C', d, 'u@x'], { input: 'x\n' });
  assert.match(r.stderr, /^sendmail: fatal: \S+: queue file write error: No such file or directory\n$/);
  assert.equal(r.status, 75);
});

test('live: Postfix sendmail writes maildrop for the same valid input', (t) => {
  const pf = postfixCommand(t, 'sendmail');
  if (pf === null) return;
  const { conf, maildrop } = maildropSetup(t);
  const r = spawnSync(pf, ['-C', conf, '-t'], { input: 'To: a@example.com\n\nx\n', encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(readdirSync(maildrop).length, 1);
  const o = ours('sendmail', ['-C', conf, '-t'], { input: 'To: a@example.com\n\nx\n' });
  assert.equal(o.status, 0);
  assert.equal(readdirSync(maildrop).length, 2);
});

test('leading "From " line dropped; sendmail_fix_line_endings strict and never', async (t) => {
  const cases: [string, string, string][] = [
    ['', 'From foo@bar Mon Jan  1\nSubject: x\r\n\r\nb\r\n', 'Subject: x\n\nb\n'],
    ['sendmail_fix_line_endings = strict\n', 'Subject: x\r\n\nb\r\n', 'Subject: x\n\nb\n'],
    ['sendmail_fix_line_endings = strict\n', 'Subject: x\n\r\nb\r\n', 'Subject: x\n\r\nb\r\n'],
    ['sendmail_fix_line_endings = never\n', 'Subject: x\r\n.\r\n', 'Subject: x\r\n.\r\n'],
  ];
  for (const [mainCf, input, want] of cases) {
    const { conf, maildrop } = maildropSetup(t, mainCf);
    const r = ours('sendmail', ['-C', conf, 'u@x'], { input });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await readDrop(maildrop)).content.toString(), want, JSON.stringify(input));
  }
});

test('envelope attributes: local rewrite context, full name from -F or the password file', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, 'u@x'], { input: 'x\n' });
  assert.equal(r.status, 0, r.stderr);
  const a = (await readDrop(maildrop)).env.attributes ?? {};
  assert.equal(a.rewrite_context, 'local');
  assert.equal(a.full_name, gecosName(userInfo().uid));
  const d = tempDir(t);
  writeFileSync(
    join(d, 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000:& Smith,Room 1,,:/home/bob:/bin/sh\n',
  );
  assert.equal(gecosName(1000, join(d, 'passwd')), 'Bob Smith');
  assert.equal(gecosName(4242, join(d, 'passwd')), undefined);
  assert.equal(gecosName(0, join(d, 'nope')), undefined);
});

/** The recipients Postfix's postcat shows for a maildrop file, envelope then extracted. */
function postcatRecipients(postcat: string, conf: string, file: string): string[] {
  const r = spawnSync(postcat, ['-c', conf, file], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('recipient: '))
    .map((l) => l.slice('recipient: '.length));
}

test('live: -t recipients as Postfix sendmail extracts them (read back with postcat)', async (t) => {
  const pf = postfixCommand(t, 'sendmail');
  const postcat = postfixCommand(t, 'postcat');
  if (pf === null || postcat === null) return;
  const inputs = [
    'To: "Doe, John" <john@example.com>, (comment) ann@example.com (Ann)\nCc: friends: bob@example.com,\n\tcarol@example.com;, <@route.example:dave@example.com>\nBcc: s@example.com\n\nTo: body@example.com\n',
    'To: "quoted local"@example.com, undisclosed-recipients:;, plain\nSubject: x\n\nx\n',
    'To: old@example.com\nResent-To: new@example.com\nResent-Cc: a@b (x), c@d\n\nx\n',
    'From foo Mon Jan  1\nTo: <a@example.com>\n\nx\n',
    'To: a@example.com\nnot a header line\nTo: b@example.com\n',
    'To: a@example.com,\n b@example.com',
  ];
  for (const input of inputs) {
    const theirs = maildropSetup(t);
    const r: SpawnSyncReturns<string> = spawnSync(pf, ['-C', theirs.conf, '-t', 'cmd@example.com'], {
      input,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0);
    const [file] = readdirSync(theirs.maildrop);
    const want = postcatRecipients(postcat, theirs.conf, join(theirs.maildrop, file as string));
    const mine = maildropSetup(t);
    const o = ours('sendmail', ['-C', mine.conf, '-t', 'cmd@example.com'], { input });
    assert.equal(o.status, 0, o.stderr);
    const got = (await readDrop(mine.maildrop)).env.recipients.map((x) => x.address);
    assert.deepEqual(got, want, input);
  }
});

test('options stop at the first recipient, as Postfix parses them (no reordering)', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, 'a@b', '-f', 'z@z'], { input: 'x\n' });
  assert.equal(r.status, 0, r.stderr);
  const m = await readDrop(maildrop);
  assert.equal(m.env.sender, userInfo().username);
  assert.deepEqual(
    m.env.recipients.map((x) => x.address),
    ['a@b', '-f', 'z@z'],
  );
});

test('-t: an 8-bit (UTF-8) address in the header arrives intact', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', conf, '-t'], {
    input: Buffer.from('To: j\u00f6rg@b\u00fccher.example\n\nx\n'),
  });
  assert.equal(r.status, 0, r.stderr);
  const m = await readDrop(maildrop);
  assert.deepEqual(
    m.env.recipients.map((x) => x.address),
    ['j\u00f6rg@b\u00fccher.example'],
  );
});

test('-C may name the main.cf file itself', async (t) => {
  const { conf, maildrop } = maildropSetup(t);
  const r = ours('sendmail', ['-C', join(conf, 'main.cf'), 'u@x'], { input: 'x\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await readDrop(maildrop)).env.recipients[0]?.address, 'u@x');
});

test('live: command-line recipients are address lists, as Postfix parses them', async (t) => {
  const pf = postfixCommand(t, 'sendmail');
  const postcat = postfixCommand(t, 'postcat');
  if (pf === null || postcat === null) return;
  const args = ['a@b, Joe <c@d>', '"x y"@z', '(comment) e@f', 'g@h (G)'];
  const theirs = maildropSetup(t);
  const r: SpawnSyncReturns<string> = spawnSync(pf, ['-C', theirs.conf, ...args], {
    input: 'x\n',
    encoding: 'utf8',
  });
  assert.equal(r.status, 0);
  const [file] = readdirSync(theirs.maildrop);
  const want = postcatRecipients(postcat, theirs.conf, join(theirs.maildrop, file as string));
  assert.equal(want.length, 5);
  const mine = maildropSetup(t);
  const o = ours('sendmail', ['-C', mine.conf, ...args], { input: 'x\n' });
  assert.equal(o.status, 0, o.stderr);
  assert.deepEqual(
    (await readDrop(mine.maildrop)).env.recipients.map((x) => x.address),
    want,
  );
});
