/*
 * virtual(8) as a process, against what Postfix 3.7.11's virtual(8) did
 * with the same main.cf and messages (test/golden/virtual/, recorded by
 * record.sh there): mailbox bytes, log lines and warnings, per-recipient
 * records, recipients marked done, and (as root) file ownership.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEL_REQ_FLAG } from '../../src/global/deliver_request.js';
import { GOLDEN, run } from '../harness/index.js';
import { type AgentHarness, agentHarness, normalize } from './fixture.js';

const DIR = join(GOLDEN, 'virtual');
const LOG = readFileSync(join(DIR, 'postfix.log'), 'utf8').split('\n');
const MAILDIR_FILES = readFileSync(join(DIR, 'maildirs.txt'), 'latin1').split('====\n');
/** Postfix's Maildir file for a recipient and subject. */
const maildirFile = (rcpt: string, subject: string) =>
  MAILDIR_FILES.find(
    (f) => f.includes(`\nX-Original-To: ${rcpt}\n`) && f.includes(`\nSubject: ${subject}\n`),
  );
const MAILDIRS = [
  maildirFile('u@v.test', 'maildir'),
  maildirFile('u+tag@v.test', 'ext'),
  maildirFile('Someone@w.test', 'catch'),
];
const ROOT_USER = process.getuid?.() === 0;
const NOBODY = 65534;

/** Postfix's lines for a recipient: the warnings just before it, then its status line. */
function golden(rcpt: string, from = 0): string[] {
  const i = LOG.findIndex((l, n) => n >= from && l.includes(`to=<${rcpt}>`));
  assert.ok(i >= 0, rcpt);
  let j = i;
  while (j > 0 && /postfix\/virtual\[\d+\]: (warning|error): /u.test(LOG[j - 1] ?? '')) j--;
  return LOG.slice(j, i + 1).map((l) => tmpName(normalize(l).replace(/: [0-9A-F]{10,}: /u, ': ID: ')));
}

/** Maildir temporary file names differ in pid, counter and host name. */
function tmpName(line: string): string {
  return line.replace(/\/tmp\/\d+\.P\d+(?:Q\d+)?\.[^:\s]+/gu, '/tmp/NAME');
}

function mainCf(vmail: string): string {
  return `virtual_mailbox_base = ${vmail}
virtual_mailbox_domains = v.test w.test x.test
virtual_mailbox_maps = inline:{ u@v.test=u/Maildir/, m@v.test=mbox, big@v.test=big, low@v.test=low/, bad@v.test=bad/, zero@v.test=zero/, nouid@x.test=nouid/, gid@x.test=gid/, perm@v.test=perm/Maildir/, own@v.test=own, n@v.test=nbox, own2@v.test=own2, link@v.test=link, bare=bare/, @w.test=catch/ }
virtual_uid_maps = inline:{ @v.test=${NOBODY}, @w.test=${NOBODY}, gid@x.test=${NOBODY}, low@v.test=5, bad@v.test=abc, bare=${NOBODY} }
virtual_gid_maps = inline:{ @v.test=${NOBODY}, @w.test=${NOBODY}, zero@v.test=0, bare=${NOBODY} }
recipient_delimiter = +
message_size_limit = 3000
virtual_mailbox_limit = 3000
`;
}

function ours(h: AgentHarness, before: number, id: string, vmail: string): string[] {
  return h
    .log()
    .slice(before)
    .map((l) => tmpName(normalize(l).replaceAll(`${id}: `, 'ID: ').replaceAll(vmail, '$G/vmail')));
}

test('virtual delivers, bounces and defers as Postfix 3.7 virtual(8)', async (t) => {
  const h0 = await agentHarness(t);
  const vmail = join(h0.base, 'vmail');
  const h = await agentHarness(t, mainCf(vmail));
  mkdirSync(vmail);
  // The mbox that is nearly full (2900 bytes of x, 70 to a line), as in the recording.
  const big = join(vmail, 'big');
  writeFileSync(big, 'x'.repeat(2900).replace(/(.{70})/gu, '$1\n'));
  if (ROOT_USER) {
    chmodSync(h0.base, 0o755);
    chownSync(vmail, NOBODY, NOBODY);
    chownSync(big, NOBODY, NOBODY);
    // Made by root, as in the recording: the mailbox owner may not write there.
    mkdirSync(join(vmail, 'perm'), { mode: 0o700 });
    writeFileSync(join(vmail, 'own'), '');
    writeFileSync(join(vmail, 'own2'), '');
    chmodSync(join(vmail, 'own2'), 0o666);
    const target = join(h0.base, 'target');
    writeFileSync(target, '');
    chownSync(target, NOBODY, NOBODY);
    symlinkSync(target, join(vmail, 'link'));
  }
  await h.start('virtual');

  const cases: [rcpt: string, content: string, outcome: string][] = [
    ['u@v.test', body(MAILDIRS[0]), 'sent'],
    ['m@v.test', mboxContent(), 'sent'],
    ['u+tag@v.test', body(MAILDIRS[1]), 'sent'],
    ['Someone@w.test', body(MAILDIRS[2]), 'sent'],
    ['UNKNOWN@v.test', 'Subject: unknown\n\nbody\n', 'bounced'],
    ['nobody+ext@v.test', 'Subject: unknown2\n\nbody\n', 'bounced'],
    ['big@v.test', 'Subject: big\n\nbody\n', 'bounced'],
    ['low@v.test', 'Subject: low\n\nbody\n', 'deferred'],
    ['bad@v.test', 'Subject: bad\n\nbody\n', 'deferred'],
    ['zero@v.test', 'Subject: zero\n\nbody\n', 'deferred'],
    ['nouid@x.test', 'Subject: nouid\n\nbody\n', 'deferred'],
    ['gid@x.test', 'Subject: gid\n\nbody\n', 'deferred'],
    // localhost is in $mydestination: the bare user (extension cut off) is a key too.
    ['bare+x@localhost', 'Subject: bare\n\nbody\n', 'sent'],
  ];
  if (ROOT_USER)
    cases.push(
      ['perm@v.test', 'Subject: perm\n\nbody\n', 'deferred'],
      ['own@v.test', 'Subject: own\n\nbody\n', 'deferred'],
      ['own2@v.test', 'Subject: own2\n\nbody\n', 'deferred'],
      ['link@v.test', 'Subject: link\n\nbody\n', 'deferred'],
    );
  for (const [rcpt, content, outcome] of cases) {
    await t.test(rcpt, async () => {
      const before = h.log().length;
      const m = await h.queue('alice@example.com', [rcpt], content);
      const reply = await h.deliver('virtual', m);
      assert.deepEqual(reply.results, [{ offset: m.recipients[0]?.offset, outcome }]);
      assert.deepEqual(ours(h, before, m.id, vmail), golden(rcpt));
      assert.deepEqual(await h.todo(m), outcome === 'deferred' ? [rcpt] : []);
    });
  }

  await t.test(
    'null sender, three recipients in one request (mbox, Maildir, quoted local part)',
    async () => {
      const before = h.log().length;
      const m = await h.queue('', ['n@v.test', 'u@v.test', 'odd user@w.test'], mboxContent('nbox.txt'));
      const reply = await h.deliver('virtual', m);
      assert.deepEqual(
        (reply.results as { outcome: string }[]).map((r) => r.outcome),
        ['sent', 'sent', 'sent'],
      );
      const qid = / ([0-9A-F]{10,}): to=<n@v\.test>/u.exec(
        LOG.find((l) => l.includes('to=<n@v.test>')) ?? '',
      )?.[1];
      const want = LOG.filter((l) => qid !== undefined && l.includes(` ${qid}: to=`)).map((l) =>
        normalize(l).replace(/: [0-9A-F]{10,}: /u, ': ID: '),
      );
      assert.equal(want.length, 3);
      // qmgr, not the agent, decides the order of a request's recipients.
      assert.deepEqual(ours(h, before, m.id, vmail).sort(), want.sort());
      const fromLine = /^From MAILER-DAEMON {2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/u;
      const nbox = readFileSync(join(vmail, 'nbox'), 'latin1');
      assert.match(nbox, fromLine);
      assert.equal(
        nbox.replace(fromLine, ''),
        readFileSync(join(DIR, 'nbox.txt'), 'latin1').replace(fromLine, ''),
      );
      const odd = readdirSync(join(vmail, 'catch/new'))
        .map((f) => readFileSync(join(vmail, 'catch/new', f), 'latin1'))
        .filter((f) => f.includes('Subject: null'));
      assert.deepEqual(odd, [maildirFile('"odd user"@w.test', 'null')]);
    },
  );

  // Mailbox contents: byte for byte what Postfix wrote.
  const maildir = (d: string) => readdirSync(join(vmail, d, 'new')).sort();
  const uFiles = maildir('u/Maildir');
  assert.deepEqual(
    uFiles
      .map((f) => readFileSync(join(vmail, 'u/Maildir/new', f), 'latin1'))
      .filter((f) => !f.includes('Subject: null'))
      .sort(),
    [MAILDIRS[0], MAILDIRS[1]].sort(),
  );
  const cFiles = maildir('catch').map((f) => readFileSync(join(vmail, 'catch/new', f), 'latin1'));
  assert.ok(cFiles.includes(MAILDIRS[2] as string));
  const fromLine = /^From alice@example\.com {2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/u;
  const mbox = readFileSync(join(vmail, 'mbox'), 'latin1');
  const want = readFileSync(join(DIR, 'mbox.txt'), 'latin1');
  assert.match(mbox, fromLine);
  assert.equal(mbox.replace(fromLine, ''), want.replace(fromLine, ''));
  // The full mbox is left as it was.
  assert.equal(statSync(big).size, 2941);

  if (ROOT_USER) {
    for (const p of [
      'mbox',
      'u',
      'u/Maildir',
      'u/Maildir/new',
      'u/Maildir/tmp',
      'u/Maildir/cur',
      'catch/new',
    ]) {
      const st = statSync(join(vmail, p));
      assert.deepEqual([p, st.uid, st.gid], [p, NOBODY, NOBODY]);
      assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, p);
    }
    const f = statSync(join(vmail, 'u/Maildir/new', uFiles[0] as string));
    assert.deepEqual([f.uid, f.gid, f.mode & 0o777], [NOBODY, NOBODY, 0o600]);
  }

  // Python's mailbox module reads what we wrote.
  const py = run('python3', [
    '-c',
    `import mailbox,sys
print([m['Subject'] for m in mailbox.mbox(sys.argv[1])])
print(sorted(m['Subject'] for m in mailbox.Maildir(sys.argv[2], factory=None)))`,
    join(vmail, 'mbox'),
    join(vmail, 'u/Maildir'),
  ]);
  assert.equal(py.stdout, "['mbox']\n['ext', 'maildir', 'null']\n", py.stderr);

  // Bounce and defer records went to the services.
  const addr = (svc: string) =>
    (h.requests.get(svc) ?? []).map((r) => [(r.recipient as { address: string }).address, r.status]);
  assert.deepEqual(addr('bounce'), [
    ['UNKNOWN@v.test', '5.1.1'],
    ['nobody+ext@v.test', '5.1.1'],
    ['big@v.test', '5.2.2'],
  ]);
  assert.deepEqual(
    addr('defer').map(([a]) => a),
    ['low@v.test', 'bad@v.test', 'zero@v.test', 'nouid@x.test', 'gid@x.test'].concat(
      ROOT_USER ? ['perm@v.test', 'own@v.test', 'own2@v.test', 'link@v.test'] : [],
    ),
  );
});

/** What the queue file held for the mbox delivery: no From line, separator or >From quoting. */
function mboxContent(file = 'mbox.txt'): string {
  const box = readFileSync(join(DIR, file), 'latin1');
  return body(box.slice(box.indexOf('\n') + 1).replace(/\n$/u, '')).replace(/^>From /gmu, 'From ');
}

/** What the queue file held: a golden mailbox file without the three delivery headers. */
function body(file: string | undefined): string {
  assert.ok(file !== undefined);
  return file.split('\n').slice(3).join('\n');
}

for (const [name, spec, goldenFrom] of [
  ['a table that cannot be opened', (dir: string) => `hash:${dir}/nonexistent`, 'hash:'],
  ['a tcp table (refused for security sensitive data)', () => 'tcp:127.0.0.1:9', 'tcp:'],
  ['a socketmap table (refused likewise)', () => 'socketmap:inet:127.0.0.1:9:virtual', 'socketmap:'],
] as const) {
  test(`virtual_mailbox_maps with ${name} defers, as Postfix`, async (t) => {
    const h0 = await agentHarness(t);
    const h = await agentHarness(
      t,
      `virtual_mailbox_base = ${h0.base}\nvirtual_mailbox_maps = ${spec(h0.base)}\nvirtual_uid_maps = static:${NOBODY}\nvirtual_gid_maps = static:${NOBODY}`,
    );
    await h.start('virtual');
    const m = await h.queue('alice@example.com', ['u@v.test']);
    const reply = await h.deliver('virtual', m);
    assert.deepEqual(reply.results, [{ offset: m.recipients[0]?.offset, outcome: 'deferred' }]);
    const from = LOG.findIndex(
      (l) =>
        l.includes(`error: ${goldenFrom}`) || (l.includes(`error: open database`) && goldenFrom === 'hash:'),
    );
    assert.ok(from >= 0);
    assert.deepEqual(
      h.log().map((l) => normalize(l).replace(`${m.id}: `, 'ID: ').replaceAll(h0.base, '$G')),
      golden('u@v.test', from),
    );
    assert.deepEqual(await h.todo(m), ['u@v.test']);
  });
}

test('virtual_mailbox_limit below message_size_limit stops the agent with Postfix fatal', async (t) => {
  const h0 = await agentHarness(t);
  const h = await agentHarness(
    t,
    `virtual_mailbox_base = ${h0.base}\nvirtual_mailbox_limit = 2600\nmessage_size_limit = 3000`,
  );
  await assert.rejects(h.start('virtual'), /exited 1/u);
  assert.match(
    h.log().join('\n'),
    /postfix\/virtual\[\d+\]: fatal: configuration error: virtual_mailbox_limit is smaller than message_size_limit/u,
  );
});

test("the mbox From line is in the agent's local time zone, as root too", async (t) => {
  const h0 = await agentHarness(t);
  const vmail = join(h0.base, 'vmail');
  mkdirSync(vmail);
  if (ROOT_USER) {
    chmodSync(h0.base, 0o755);
    chownSync(vmail, NOBODY, NOBODY);
  }
  const h = await agentHarness(
    t,
    `virtual_mailbox_base = ${vmail}\nvirtual_mailbox_maps = inline:{ m@v.test=mbox }\nvirtual_uid_maps = static:${NOBODY}\nvirtual_gid_maps = static:${NOBODY}`,
  );
  await h.start('virtual', 'virtual', { TZ: 'Asia/Tokyo' });
  // Tokyo is UTC+9 all year: the hour written must be that one.
  const tokyoHour = () => String((new Date().getUTCHours() + 9) % 24).padStart(2, '0');
  const before = tokyoHour();
  const m = await h.queue('alice@example.com', ['m@v.test']);
  await h.deliver('virtual', m);
  const after = tokyoHour();
  const hour = /^From alice@example\.com {2}\w{3} \w{3} [ \d]\d (\d\d):/u.exec(
    readFileSync(join(vmail, 'mbox'), 'latin1'),
  )?.[1];
  assert.ok(hour === before || hour === after, `${hour} not ${before}`);
});

test('an address probe (verify flag) looks the recipient up but writes nothing', async (t) => {
  const h0 = await agentHarness(t);
  const vmail = join(h0.base, 'vmail');
  mkdirSync(vmail);
  const h = await agentHarness(
    t,
    `virtual_mailbox_base = ${vmail}\nvirtual_mailbox_maps = inline:{ m@v.test=mbox, u@v.test=u/ }\nvirtual_uid_maps = static:${NOBODY}\nvirtual_gid_maps = static:${NOBODY}`,
  );
  await h.start('virtual');
  const m = await h.queue('alice@example.com', ['u@v.test', 'm@v.test', 'nobody@v.test']);
  const reply = await h.deliver('virtual', m, { flags: DEL_REQ_FLAG.VERIFY });
  assert.deepEqual(
    (reply.results as { outcome: string }[]).map((r) => r.outcome),
    ['sent', 'sent', 'bounced'],
  );
  assert.deepEqual(readdirSync(vmail), []);
  // Postfix's words for the probe (sendmail -bv in the recording).
  const text = (line: string | undefined) => / dsn=(\S+), (status=\w+ \(.*\))$/u.exec(line ?? '')?.slice(1);
  for (const rcpt of ['u@v.test', 'm@v.test', 'nobody@v.test']) {
    const theirs = LOG.find((l) => l.includes(`to=<${rcpt}>`) && /status=(un)?deliverable/u.test(l));
    const mine = h.log().find((l) => l.includes(`to=<${rcpt}>`));
    assert.deepEqual(text(mine), text(theirs), rcpt);
  }
});
