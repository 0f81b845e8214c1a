/*
 * postcat: our command on a queue file built with the writer, against
 * output recorded from Postfix 3.7 postcat (test/golden/postcat/README).
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import {
  createQueueDirs,
  type QueueLayout,
  queueFilePath,
  queueLayout,
} from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { configDir, GOLDEN, ours, postfixCommand, run, tempDir } from '../harness/index.js';

const G = join(GOLDEN, 'postcat');
const ARRIVAL = 1795602010;
const env = { TZ: 'UTC' };

async function fixture(t: TestContext, queue = 'maildrop', hashed: string[] = []) {
  const dir = tempDir(t);
  const names = hashed.length > 0 ? `hash_queue_names = ${hashed.join(', ')}\n` : '';
  const conf = configDir(t, `queue_directory = ${dir}\n${names}`);
  const layout = queueLayout(loadMainConfig({ configDir: conf }));
  await createQueueDirs(layout);
  const w = await createQueueFile(layout, { queue });
  await w.envelope({
    arrival: { sec: ARRIVAL, usec: 0 },
    sender: 'sender@example.com',
    recipients: [{ address: 'rcpt@example.com' }],
    attributes: { rewrite_context: 'local', sender_fullname: 'root' },
  });
  await w.content(Buffer.from('Subject: hi\nFrom: a@b\n\nbody line\n'));
  const id = await w.commit();
  return { dir, conf, layout, id, path: queueFilePath(layout, queue, id) };
}

/** Our output in Postfix's terms: its queue ID, and without our size record (a maildrop file has none). */
function asPostfix(out: string, id: string): string {
  return out
    .replaceAll(id, '2ED2D224611')
    .split('\n')
    .filter((l) => !/message_size:/.test(l))
    .join('\n');
}

for (const [name, opts] of [
  ['default', ['-q']],
  ['e', ['-eq']],
  ['h', ['-hq']],
  ['b', ['-bq']],
  ['eh', ['-ehq']],
  ['d', ['-dq']],
] as const) {
  test(`postcat ${opts.join(' ')} ID matches Postfix's layout`, async (t) => {
    const f = await fixture(t);
    const r = ours('postcat', ['-c', f.conf, ...opts, f.id], { env });
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(asPostfix(r.stdout, f.id), readFileSync(join(G, `${name}.stdout`), 'utf8'));
  });
}

test('postcat -e prints the size record as message_size with Postfix field widths', async (t) => {
  const f = await fixture(t);
  const r = ours('postcat', ['-c', f.conf, '-e', f.path], { env });
  const line = r.stdout.split('\n')[1] ?? '';
  assert.match(line, /^message_size: {14}33 {10,}\d+ {15}1 {15}0 {14}33$/);
  assert.equal(r.stdout.split('\n')[0], `*** ENVELOPE RECORDS ${f.path} ***`);
});

test('postcat -o offsets point at the records they print', async (t) => {
  const f = await fixture(t);
  const buf = readFileSync(f.path);
  const r = ours('postcat', ['-c', f.conf, '-o', '-q', f.id], { env });
  assert.equal(r.status, 0);
  const want: Record<string, string> = {
    'message_size:': 'C',
    'sender:': 'S',
    'recipient:': 'R',
    'named_attribute:': 'A',
  };
  let checked = 0;
  for (const line of r.stdout.split('\n').slice(1, -1)) {
    const m = /^ {0,8}(\d+) (\S*)/.exec(line);
    assert.ok(m, line);
    assert.equal(line.indexOf(m[1] as string) + (m[1] as string).length, 9, line);
    const type = want[m[2] as string];
    if (type !== undefined) {
      assert.equal(String.fromCharCode(buf[Number(m[1])] as number), type, line);
      checked++;
    }
  }
  assert.equal(checked, 4);
});

test('postcat -q finds a file in a hashed queue and names it by its path', async (t) => {
  const f = await fixture(t, 'deferred', ['deferred']);
  const r = ours('postcat', ['-c', f.conf, '-q', '-e', f.id], { env });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.split('\n')[0], `*** ENVELOPE RECORDS deferred/${f.id[0]}/${f.id} ***`);
});

test('postcat errors have Postfix wording and exit status', async (t) => {
  const f = await fixture(t);
  const prog = (s: string) => s.replaceAll('/usr/sbin/postcat', 'postcat');
  for (const [name, args] of [
    ['missing', ['-q', 'NOSUCH']],
    ['badid', ['-q', '../etc']],
  ] as const) {
    const r = ours('postcat', ['-c', f.conf, ...args], { env });
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, prog(readFileSync(join(G, `${name}.stderr`), 'utf8')), name);
    assert.equal(String(r.status), readFileSync(join(G, `${name}.status`), 'utf8').trim(), name);
  }
  const plain = join(f.dir, 'f');
  writeFileSync(plain, 'hello\n');
  const r = ours('postcat', ['-c', f.conf, plain], { env });
  assert.equal(r.stderr, `postcat: warning: ${plain}: input is not a valid queue file\n`);
  assert.equal(r.status, 0);
  const gone = ours('postcat', ['-c', f.conf, join(f.dir, 'nonexist')], { env });
  assert.equal(gone.stderr, `postcat: fatal: open ${join(f.dir, 'nonexist')}: No such file or directory\n`);
  assert.equal(gone.status, 1);
  const usage = ours('postcat', ['-c', f.conf, '-x'], { env });
  assert.equal(usage.status, 1);
  assert.match(
    usage.stderr,
    /^postcat: invalid option -- 'x'\npostcat: fatal: usage: postcat \[-b \(body text\)\]/,
  );
});

test('postcat on a torn file: what it read, then unexpected EOF and exit 1', async (t) => {
  const f = await fixture(t);
  const buf = readFileSync(f.path);
  const torn = join(f.dir, 'torn');
  writeFileSync(torn, buf.subarray(0, buf.indexOf('body line') + 2));
  const r = ours('postcat', ['-c', f.conf, torn], { env });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\*\*\* MESSAGE CONTENTS .*\nSubject: hi\nFrom: a@b\n\n$/);
  assert.match(
    r.stderr,
    /^postcat: warning: .*torn: unexpected EOF in data, record type 78 length \d+\npostcat: fatal: record read error\n$/,
  );
});

test('postcat reads stdin when no file is named', async (t) => {
  const f = await fixture(t);
  const r = ours('postcat', ['-c', f.conf, '-b'], { env, input: readFileSync(f.path) });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, readFileSync(join(G, 'b.stdout'), 'utf8'));
});

test('postcat -e names DSN, original and done recipient records as Postfix does; the extracted section follows content', async (t) => {
  const dir = tempDir(t);
  const conf = configDir(t, `queue_directory = ${dir}\n`);
  const layout: QueueLayout = { directory: dir, hashed: new Set(), depth: 1, longIds: false };
  await createQueueDirs(layout);
  const w = await createQueueFile(layout, { queue: 'active' });
  await w.envelope({
    arrival: { sec: ARRIVAL, usec: 0 },
    warnTime: ARRIVAL + 14400,
    sender: '',
    dsnEnvid: 'myenvid',
    dsnRet: 2,
    recipients: [
      { address: 'a@example.com', orig: 'A@Example.com', dsnOrcpt: 'rfc822;A@Example.com', dsnNotify: 10 },
      { address: 'b@example.com' },
    ],
  });
  await w.content(Buffer.from('Subject: x\n\nlong'));
  await w.recipient({ address: 'late@example.com' });
  const id = await w.commit();
  const r0 = await openQueueFile(queueFilePath(layout, 'active', id), { write: true });
  assert.ok(r0.ok);
  await r0.file.markDone(r0.file.recipients[1] as (typeof r0.file.recipients)[number]);
  await r0.file.close();
  const r = ours('postcat', ['-c', conf, '-q', id], { env });
  assert.equal(r.status, 0);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(2), [
    'message_arrival_time: Wed Nov 25 10:20:10 2026',
    'warning_message_time: Wed Nov 25 14:20:10 2026',
    'dsn_envelope_id: myenvid',
    'dsn_return_flags: 2',
    'sender: ',
    'original_recipient: A@Example.com',
    'dsn_original_recipient: rfc822;A@Example.com',
    'dsn_notify_flags: 10',
    'recipient: a@example.com',
    'done_recipient: b@example.com',
    `*** MESSAGE CONTENTS active/${id} ***`,
    'Subject: x',
    '',
    'long',
    `*** HEADER EXTRACTED active/${id} ***`,
    'recipient: late@example.com',
    `*** MESSAGE FILE END active/${id} ***`,
    '',
  ]);
});

test('postcat -s starts at a record offset, without the envelope heading; a bad offset is fatal', async (t) => {
  const f = await fixture(t);
  const listed = ours('postcat', ['-c', f.conf, '-o', f.path], { env }).stdout;
  const at = /^ *(\d+) sender: /m.exec(listed);
  assert.ok(at, listed);
  const r = ours('postcat', ['-c', f.conf, '-s', at[1] as string, f.path], { env });
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout.split('\n').slice(0, 3).join('\n'),
    `sender: sender@example.com\nrecipient: rcpt@example.com\n*** MESSAGE CONTENTS ${f.path} ***`,
  );
  const bad = ours('postcat', ['-c', f.conf, '-s', 'x', f.path], { env });
  assert.equal(bad.stderr, 'postcat: fatal: bad offset: x\n');
  assert.equal(bad.status, 1);
});

test('live: postcat errors and empty input as Postfix postcat gives them', async (t) => {
  const theirs = postfixCommand(t, 'postcat');
  if (theirs === null) return;
  const f = await fixture(t);
  const plain = join(f.dir, 'plain');
  writeFileSync(plain, 'hello\n');
  const empty = join(f.dir, 'empty');
  writeFileSync(empty, '');
  for (const args of [
    ['-q', 'NOSUCH'],
    ['-q', '../etc'],
    ['-q', 'ABC/DEF'],
    [plain],
    [empty],
    [join(f.dir, 'nonexist')],
    [f.dir, plain],
    ['-s', 'x', plain],
  ]) {
    const want = run(theirs, ['-c', f.conf, ...args], { env });
    const got = ours('postcat', ['-c', f.conf, ...args], { env });
    const label = args.join(' ');
    assert.equal(got.stdout, want.stdout, label);
    assert.equal(got.stderr, want.stderr.replaceAll(theirs, 'postcat'), label);
    assert.equal(got.status, want.status, label);
  }
});

// Expected splits checked with Postfix 3.7 postcat on files its sendmail wrote from the same content.
test('postcat -h / -b split at the first non-header line; lines starting with white space stay in the header', async (t) => {
  const dir = tempDir(t);
  const conf = configDir(t, `queue_directory = ${dir}\n`);
  const layout = queueLayout(loadMainConfig({ configDir: conf }));
  await createQueueDirs(layout);
  const cases: [string, string, string][] = [
    ['Subject: a\n b\nX: y\n\nbody\nZ: z\n', 'Subject: a\n b\nX: y\n', '\nbody\nZ: z\n'],
    ['hello\nX: y\n', '', 'hello\nX: y\n'],
    [' folded first\nX: y\n', ' folded first\nX: y\n', ''],
  ];
  for (const [content, head, body] of cases) {
    const w = await createQueueFile(layout, { queue: 'active' });
    await w.envelope({
      arrival: { sec: ARRIVAL, usec: 0 },
      sender: 's@example.com',
      recipients: [{ address: 'r@example.com' }],
    });
    await w.content(Buffer.from(content));
    const id = await w.commit();
    assert.equal(ours('postcat', ['-c', conf, '-hq', id], { env }).stdout, head, content);
    assert.equal(ours('postcat', ['-c', conf, '-bq', id], { env }).stdout, body, content);
    assert.equal(ours('postcat', ['-c', conf, '-bhq', id], { env }).stdout, content, content);
  }
});

test('live: an empty hash_queue_names is refused as Postfix refuses it', (t) => {
  const theirs = postfixCommand(t, 'postcat');
  if (theirs === null) return;
  const conf = configDir(t, `queue_directory = ${tempDir(t)}\nhash_queue_names =\n`);
  const want = run(theirs, ['-c', conf, '-q', 'ABCDEF'], { env });
  const got = ours('postcat', ['-c', conf, '-q', 'ABCDEF'], { env });
  assert.equal(got.stderr, 'postcat: fatal: bad string length 0 < 1: hash_queue_names = \n');
  assert.equal(got.stderr, want.stderr.replaceAll(theirs, 'postcat'));
  assert.equal(got.status, want.status);
});
