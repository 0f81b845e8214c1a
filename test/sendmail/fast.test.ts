/*
 * sendmail's compiled fast path (dist/sendmail-fast) against the Node
 * implementation: for each accepted submission both write the same
 * maildrop file, record for record (only the arrival time, and the
 * offsets that follow from its length, may differ), with the same mode and
 * queue ID form, and print the same. What the fast path does not handle
 * it hands over (POSTROOM_SENDMAIL_FAST=test makes that visible: exit 99),
 * and bin/sendmail then gives Node's result. Under CI=true a missing
 * binary fails: npm run build must make it (.ci/run installs gcc).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { defaultText } from '../../src/global/params.js';
import { decodeRecord, parseSize, REC } from '../../src/global/queue_file.js';
import { isLongQueueId, isShortQueueId } from '../../src/global/queue_id.js';
import { ours, ROOT, type Run, run, tempDir } from '../harness/index.js';
import { maildropSetup } from './fixture.js';

const FAST = join(ROOT, 'dist/sendmail-fast');

function fastBinary(t: TestContext): boolean {
  if (existsSync(FAST)) return true;
  if (process.env.CI === 'true') throw new Error(`${FAST} is missing: npm run build must compile it`);
  t.skip('dist/sendmail-fast is not built (no C compiler?)');
  return false;
}

interface Drop {
  readonly name: string;
  readonly mode: number;
  /** Records as "type payload" (latin1), the arrival time left out. */
  readonly records: string[];
  readonly size: { contentLength: number; rcptCount: number };
}

/** The one file in maildrop/, checked for consistency and taken apart; the directory is emptied. */
function takeDrop(maildrop: string): Drop | undefined {
  const files = readdirSync(maildrop);
  if (files.length === 0) return undefined;
  assert.equal(files.length, 1, `one file in maildrop: ${files.join(' ')}`);
  const path = join(maildrop, files[0] as string);
  const buf = readFileSync(path);
  const mode = statSync(path).mode & 0o7777;
  rmSync(path);
  const records: string[] = [];
  const offsets = new Map<number, number>();
  let size: ReturnType<typeof parseSize>;
  for (let pos = 0; pos < buf.length; ) {
    const d = decodeRecord(buf, pos);
    assert.equal(d.kind, 'record', `record at ${pos}`);
    if (d.kind !== 'record') break;
    offsets.set(d.type, offsets.get(d.type) ?? pos);
    const text = d.data.toString('latin1');
    if (d.type === REC.SIZE) size = parseSize(text);
    else if (d.type !== REC.TIME) records.push(`${String.fromCharCode(d.type)} ${text}`);
    pos = d.next;
  }
  assert.ok(size !== undefined, 'size record');
  assert.equal(size.fileSize, buf.length, 'size record: file size');
  assert.equal(size.contentOffset, offsets.get(REC.MESG), 'size record: content offset');
  assert.equal(size.xtraOffset, offsets.get(REC.XTRA), 'size record: extracted offset');
  return {
    name: files[0] as string,
    mode,
    records,
    size: { contentLength: size.contentLength, rcptCount: size.rcptCount },
  };
}

function sameRun(a: Run, b: Run, what: string): void {
  assert.deepEqual(
    { stdout: a.stdout, stderr: a.stderr, status: a.status },
    { stdout: b.stdout, stderr: b.stderr, status: b.status },
    what,
  );
}

function sameDrop(a: Drop | undefined, b: Drop | undefined, what: string): void {
  assert.equal(a === undefined, b === undefined, `${what}: file kept by both or neither`);
  if (a === undefined || b === undefined) return;
  assert.deepEqual(a.records, b.records, `${what}: records`);
  assert.deepEqual(a.size, b.size, `${what}: sizes`);
  assert.equal(a.mode, b.mode, `${what}: mode`);
  const form = (id: string) => (isShortQueueId(id) ? 'short' : isLongQueueId(id) ? 'long' : 'none');
  assert.equal(form(a.name), form(b.name), `${what}: queue ID form`);
  assert.notEqual(form(a.name), 'none', `${what}: a queue ID name`);
}

/** bin/sendmail on the Node path, without blocking: Node's start-up dominates these tests. */
function nodeSendmail(args: readonly string[], input: string | Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'bin/sendmail'), args, {
      env: { ...process.env, POSTROOM_SENDMAIL_FAST: 'no' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // Node stops reading at a lone dot or an error: the rest of the input is not wanted.
    });
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status }),
    );
    child.stdin.end(input);
  });
}

/** The fast path alone (it must not hand over) and Node alone, on the same input. */
async function compare(
  t: TestContext,
  args: readonly string[],
  input: string | Buffer,
  mainCf = '',
  /** -C names main.cf itself instead of its directory. */
  viaFile = false,
): Promise<Drop | undefined> {
  const { conf, maildrop } = maildropSetup(t, mainCf);
  const c = ['-C', viaFile ? join(conf, 'main.cf') : conf];
  const fast = run(FAST, [...c, ...args], { input, env: { POSTROOM_SENDMAIL_FAST: 'test' } });
  assert.doesNotMatch(fast.stderr, /handed over/, `fast path handles: ${args.join(' ')}`);
  const fastDrop = takeDrop(maildrop);
  const node = await nodeSendmail([...c, ...args], input);
  const nodeDrop = takeDrop(maildrop);
  sameRun(fast, node, args.join(' '));
  sameDrop(fastDrop, nodeDrop, args.join(' '));
  return fastDrop;
}

/** Run the jobs a few at a time. */
async function pool<T>(items: readonly T[], job: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await job(items[next++] as T);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

const BODY = 'Subject: hello\nFrom: Someone <s@example.com>\n\nline one\nline two\n';

test('fast path: the same maildrop file as Node for plain submissions and options', async (t) => {
  if (!fastBinary(t)) return;
  const cases: [string[], string | Buffer][] = [
    [['a@example.com'], BODY],
    [['-f', 'sender@example.com', 'a@example.com', 'b@example.com'], BODY],
    [['-r', 'Joe <joe@example.com>', '-F', 'Joe Bloggs', '--', 'a@example.com'], BODY],
    [['-f', '<>', '-F', '', 'a@example.com'], BODY],
    [['-fx@y', '-Fname', '-oi', '-oem', '-odi', 'a@example.com'], BODY],
    [['-N', 'success,delay', '-R', 'hdrs', '-V', 'envid-1', '-B', '8BITMIME', 'a@example.com'], BODY],
    [['-N', 'never', '-R', 'FULL', '-B', '7BIT', '-bm', 'a@example.com'], BODY],
    [['-G', '-U', '-c', '-x', '-m', '-h', '5', '-L', 'tag', '-O', 'Opt=1', '-p', 'smtp', 'a@x'], BODY],
    [['a@example.com, Joe <c@example.com> (comment), group: d@x.test, e@x.test;'], BODY],
    [Array.from({ length: 200 }, (_, i) => `user${i}@example.com`), BODY],
    [['a@example.com'], ''],
    [['a@example.com'], 'no newline at the end'],
    [['a@example.com'], 'From someone Mon Jan 1\nSubject: mbox\n\nbody\n'],
    [['a@example.com'], 'From only'],
    [['a@example.com'], 'Subject: dots\n\n..\n.x\n.\nnot read\n'],
    [['-i', 'a@example.com'], 'Subject: dots\n\n..\n.x\n.\nstill read\n.'],
    [['a@example.com'], 'Subject: last dot\n\n.'],
    [['a@example.com'], 'Subject: crlf\r\n\r\nbody\r\nbare\rcr\r\n'],
    [['a@example.com'], Buffer.from('Subject: 8bit \xe9\n\n\xff\xfe\0nul\n\x80\n', 'latin1')],
    [['a@example.com'], `Subject: long\n\n${'x'.repeat(4096)}\n${'y'.repeat(4097)}\n${'z'.repeat(10000)}\n`],
    [['a@example.com'], `${'w'.repeat(8192)}\r\n${'v'.repeat(4095)}`],
    [['a@example.com'], 'line\n'.repeat(30000)],
  ];
  await pool(cases, ([args, input]) => compare(t, args, input));
});

test('fast path: -t takes header recipients as Node does (Bcc removed, Resent-, folding, groups)', async (t) => {
  if (!fastBinary(t)) return;
  const inputs = [
    'To: a@example.com, Joe <b@example.com>\nCc: "Quoted Name" <c@example.com> (comment)\nBcc: hidden@example.com,\n secret@example.com\nSubject: t\n\nTo: not@header.test\n',
    'Resent-To: r@example.com\nResent-Bcc: rb@example.com\nTo: ignored@example.com\nSubject: resent\n\nbody\n',
    'To: undisclosed-recipients:;\nCc: list: x@example.com, y@example.com;\n\nbody\n',
    'Subject: no blank line\nTo: a@example.com\nbody starts here\nTo: b@example.com\n',
    'To: a@example.com\n  \nafter a blank continuation\n',
    'To: only@example.com',
    'Subject: dot in header\nTo: a@example.com\n.\nnot read\n',
  ];
  await pool(inputs, async (input) => {
    await compare(t, ['-t'], input);
    await compare(t, ['-t', '-N', 'failure', 'cmd@example.com'], input);
  });
});

test('fast path: errors after the input is read are Node errors (too big, no recipients)', async (t) => {
  if (!fastBinary(t)) return;
  const big = await compare(
    t,
    ['a@example.com'],
    `Subject: big\n\n${'x'.repeat(200)}\n`,
    'message_size_limit = 100\n',
  );
  assert.equal(big, undefined, 'no file left when the message is too big');
  const none = await compare(t, ['-t'], 'Subject: nobody\n\nbody\n');
  assert.equal(none, undefined, 'no file left without recipients');
});

test('fast path: main.cf settings it reads (long queue IDs, line endings, size limit)', async (t) => {
  if (!fastBinary(t)) return;
  const input = 'Subject: x\r\n\r\nbody\r\nmore\n';
  const long = await compare(t, ['a@example.com'], input, 'enable_long_queue_ids = yes\n# a comment\n\n');
  assert.ok(long !== undefined && isLongQueueId(long.name), 'long queue ID');
  await Promise.all([
    compare(t, ['a@example.com'], input, 'sendmail_fix_line_endings = strict\n'),
    compare(t, ['a@example.com'], 'Subject: x\n\nbody\r\nmore\r\n', 'sendmail_fix_line_endings = strict\n'),
    compare(t, ['a@example.com'], input, 'sendmail_fix_line_endings = never\nmessage_size_limit = 0\n'),
    compare(t, ['a@example.com'], input, 'message_size_limit =\n  100000\nhash_queue_names = deferred\n'),
  ]);
});

test('fast path: what it does not handle goes to Node, whose result bin/sendmail gives', async (t) => {
  if (!fastBinary(t)) return;
  // compare: also run bin/sendmail and Node's path and compare them (the others only show the hand-over).
  const cases: { args: string[]; input?: string; mainCf?: string; compare?: true }[] = [
    { args: ['-bv', 'a@example.com'], compare: true },
    { args: ['-v', 'a@example.com'] },
    { args: ['-bs'] },
    { args: ['-bp'], compare: true },
    { args: ['-Z', 'a@example.com'], compare: true },
    { args: ['-f'] },
    { args: ['-N', 'bogus', 'a@example.com'], compare: true },
    { args: ['-R', 'none', 'a@example.com'] },
    { args: ['-B', '8bitmime', 'a@example.com'] },
    { args: ['-X', 'log', 'a@example.com'] },
    { args: ['-n', 'a@example.com'] },
    { args: ['-q'] },
    { args: [], compare: true },
    { args: ['"quoted local"@example.com'], compare: true },
    { args: ['user\\@x@example.com'] },
    { args: ['j\u00f6rg@example.com'] },
    { args: ['a@example.com'], mainCf: 'queue_directory = $q\nq = /nonexistent\n', compare: true },
    { args: ['a@example.com'], mainCf: 'message_size_limit = 1\nmessage_size_limit = 2\n', compare: true },
    { args: ['a@example.com'], mainCf: 'message_size_limit = ten\n' },
    { args: ['a@example.com'], mainCf: 'hash_queue_names = maildrop\n' },
    { args: ['a@example.com'], mainCf: '  starts with space\n' },
    { args: ['-t'], input: 'To: J\u00f6rg <j\u00f6rg@example.com>\n\nbody\n', compare: true },
    { args: ['-t'], input: 'To: "quoted local"@example.com\n\nbody\n', compare: true },
  ];
  await pool(cases, async (c) => {
    const input = c.input ?? BODY;
    const what = `${c.args.join(' ')} ${c.mainCf ?? ''}`;
    const { conf, maildrop } = maildropSetup(t, c.mainCf ?? '');
    const fast = run(FAST, ['-C', conf, ...c.args], { input, env: { POSTROOM_SENDMAIL_FAST: 'test' } });
    assert.equal(fast.status, 99, `handed over: ${what}`);
    assert.deepEqual(readdirSync(maildrop), [], `nothing left behind: ${what}`);
    if (!c.compare) return;
    const launcher = ours('sendmail', ['-C', conf, ...c.args], { input });
    const launcherDrop = takeDrop(maildrop);
    const node = await nodeSendmail(['-C', conf, ...c.args], input);
    sameRun(launcher, node, what);
    sameDrop(launcherDrop, takeDrop(maildrop), what);
  });
});

test('fast path: -C naming main.cf itself, and MAIL_CONFIG', async (t) => {
  if (!fastBinary(t)) return;
  const { conf, maildrop } = maildropSetup(t);
  const viaFile = await compare(t, ['a@example.com'], BODY, '', true);
  assert.ok(viaFile !== undefined, '-C naming main.cf: the message is queued');
  const missing = run(FAST, ['-C', join(conf, 'nothing.cf'), 'a@example.com'], {
    input: BODY,
    env: { POSTROOM_SENDMAIL_FAST: 'test' },
  });
  assert.equal(missing.status, 99, 'a -C that does not exist goes to Node');
  const env = { POSTROOM_SENDMAIL_FAST: 'test', MAIL_CONFIG: conf };
  const r = run(FAST, ['a@example.com'], { input: BODY, env });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(takeDrop(maildrop) !== undefined, 'MAIL_CONFIG names the configuration');
});

test('bin/sendmail runs the fast path when it is built, Node when told not to', (t) => {
  if (!fastBinary(t)) return;
  const { conf } = maildropSetup(t);
  const trace = (env: Record<string, string>) =>
    spawnSync('sh', ['-x', join(ROOT, 'bin/sendmail'), '-C', conf, 'a@example.com'], {
      input: BODY,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
  const fast = trace({});
  assert.equal(fast.status, 0, fast.stderr);
  assert.match(fast.stderr, /exec \S*dist\/sendmail-fast /);
  const slow = trace({ POSTROOM_SENDMAIL_FAST: 'no' });
  assert.equal(slow.status, 0, slow.stderr);
  assert.doesNotMatch(slow.stderr, /exec \S*sendmail-fast/);
});

test('fast path: a maildrop it cannot write is left to Node (same error)', (t) => {
  if (!fastBinary(t)) return;
  const dir = tempDir(t);
  const q = join(dir, 'q');
  mkdirSync(join(q, 'public'), { recursive: true });
  writeFileSync(join(dir, 'main.cf'), `queue_directory = ${q}\n`);
  const fast = run(FAST, ['-C', dir, 'a@example.com'], {
    input: BODY,
    env: { POSTROOM_SENDMAIL_FAST: 'test' },
  });
  assert.equal(fast.status, 99, 'no maildrop/: handed over');
  const launcher = ours('sendmail', ['-C', dir, 'a@example.com'], { input: BODY });
  const node = ours('sendmail', ['-C', dir, 'a@example.com'], {
    input: BODY,
    env: { POSTROOM_SENDMAIL_FAST: 'no' },
  });
  sameRun(launcher, node, 'missing maildrop');
  assert.equal(node.status, 75);
});

test("fast path: the C program's parameter defaults are the registry's (src/global/params.ts)", () => {
  // The C program cannot read the registry; this keeps its copy of the defaults honest.
  const source = readFileSync(join(ROOT, 'src/sendmail/fast/sendmail_fast.c'), 'utf8');
  const table = /static struct param \{[^}]*\} params\[\] = \{([^;]*)\};/u.exec(source)?.[1];
  assert.ok(table, 'params[] table in sendmail_fast.c');
  const rows = [...table.matchAll(/\{"([a-z_0-9]+)", "([^"]*)", NULL\}/gu)];
  assert.ok(rows.length >= 6, table);
  for (const [, name, dflt] of rows) assert.equal(dflt, defaultText(name!), `default of ${name}`);
});
