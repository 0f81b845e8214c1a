import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { deliverMaildir, maildirHostname } from '../../src/global/maildir.js';
import { deliveryHeaders, MailboxError } from '../../src/local/mailbox_copy.js';
import { tempDir } from '../harness/index.js';
import { cut, pythonRead } from './helpers.js';

async function rejects(p: Promise<unknown>): Promise<MailboxError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MailboxError, String(e));
    return e;
  }
  assert.fail('delivery succeeded');
}

test('a first delivery creates tmp/new/cur (0700) and a 0600 file named <sec>.V<dev>I<ino>M<usec>.<host>', async (t) => {
  const md = join(tempDir(t), 'Maildir');
  const prefix = deliveryHeaders({ returnPath: '', deliveredTo: 'u@example.com' });
  const before = Math.floor(Date.now() / 1000);
  const file = await deliverMaildir({
    dir: md,
    prefix,
    content: 'Subject: hi\n\nFrom me\nno newline',
    hostname: 'mx.example.com',
  });
  for (const sub of ['tmp', 'new', 'cur']) assert.equal(statSync(join(md, sub)).mode & 0o777, 0o700, sub);
  assert.deepEqual(readdirSync(join(md, 'tmp')), []);
  assert.deepEqual(readdirSync(join(md, 'new')), [basename(file)]);
  const st = statSync(file, { bigint: true });
  assert.equal(Number(st.mode & 0o777n), 0o600);
  assert.equal(st.nlink, 1n);
  const m = /^(\d+)\.V([0-9a-f]+)I([0-9a-f]+)M(\d{1,6})\.mx\.example\.com$/u.exec(basename(file));
  assert.ok(m, basename(file));
  assert.ok(Math.abs(Number(m[1]) - before) <= 2);
  assert.equal(m[2], st.dev.toString(16));
  assert.equal(m[3], st.ino.toString(16));
  assert.equal(
    readFileSync(file, 'latin1'),
    'Return-Path: <>\nDelivered-To: u@example.com\nSubject: hi\n\nFrom me\nno newline\n',
    'no From line, no quoting, a final newline added',
  );
});

test('Python reads the same messages back; concurrent deliveries in one process get distinct names', async (t) => {
  const md = join(tempDir(t), 'Maildir');
  const texts = Array.from(
    { length: 40 },
    (_, i) => `Subject: m${i}\n\n${'From body\n'.repeat(i)}end ${i}\n`,
  );
  const files = await Promise.all(
    texts.map((text, i) => deliverMaildir({ dir: md, content: cut(Buffer.from(text), [i, 3 * i, 7]) })),
  );
  assert.equal(new Set(files).size, texts.length);
  const got = pythonRead('Maildir', md)
    .map((m) => m.bytes)
    .sort();
  assert.deepEqual(got, [...texts].sort());
  assert.deepEqual(readdirSync(join(md, 'tmp')), []);
});

test('the host name part escapes "/" and ":"', () => {
  assert.equal(maildirHostname('a/b:c'), 'a\\057b\\072c');
});

test('a message over the size limit bounces (5.2.2) and leaves nothing behind', async (t) => {
  const md = join(tempDir(t), 'Maildir');
  const e = await rejects(deliverMaildir({ dir: md, content: 'x'.repeat(5000), sizeLimit: 1000 }));
  assert.equal(e.status, '5.2.2');
  assert.equal(e.message, 'error writing message: File too large');
  assert.deepEqual(readdirSync(join(md, 'tmp')), []);
  assert.deepEqual(readdirSync(join(md, 'new')), []);
});

test('a read error from the queue defers (4.3.0) and leaves nothing behind', async (t) => {
  const md = join(tempDir(t), 'Maildir');
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('Subject: x\n\n');
    throw Object.assign(new Error('read'), { code: 'EIO' });
  }
  const e = await rejects(deliverMaildir({ dir: md, content: broken() }));
  assert.equal(e.status, '4.3.0');
  assert.equal(e.message, 'error writing message: Input/output error');
  assert.deepEqual(readdirSync(join(md, 'tmp')), []);
  assert.deepEqual(readdirSync(join(md, 'new')), []);
});

test('a Maildir that cannot be created is reported as Postfix words it (5.2.0)', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'Maildir'), 'not a directory');
  const e = await rejects(deliverMaildir({ dir: join(dir, 'Maildir'), content: 'a\n', hostname: 'h' }));
  assert.equal(e.status, '5.2.0');
  assert.match(e.message, /^create maildir file .*\/Maildir\/tmp\/\d+\.P\d+Q\d+\.h: Not a directory$/u);
});

test('a missing new/ is created again at link time', async (t) => {
  const md = join(tempDir(t), 'Maildir');
  mkdirSync(join(md, 'tmp'), { recursive: true });
  const file = await deliverMaildir({ dir: md, content: 'a\n' });
  assert.equal(readFileSync(file, 'utf8'), 'a\n');
  assert.equal(statSync(join(md, 'cur')).isDirectory(), true);
});
