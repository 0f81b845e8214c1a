/*
 * The mailbox owner's process (src/virtual/delivery.ts): as root a
 * delivery runs with the recipient's uid/gid, so what the user controls
 * under the mail directory cannot make it write elsewhere; a message that
 * cannot be read to its end is never delivered cut off.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DeliveryOrder, deliverAs, type UserIds } from '../../src/virtual/delivery.js';
import { tempDir } from '../harness/index.js';

const ROOT_USER = process.getuid?.() === 0;
const NOBODY: UserIds | null = ROOT_USER ? { uid: 65534, gid: 65534 } : null;

function mailDir(t: import('node:test').TestContext): string {
  const base = tempDir(t, 'postroom-vdeliver-');
  chmodSync(base, 0o755);
  const dir = join(base, 'vmail');
  mkdirSync(dir);
  if (ROOT_USER) chownSync(dir, 65534, 65534);
  return dir;
}

function order(kind: 'mbox' | 'maildir', path: string, ids: UserIds | null = NOBODY): DeliveryOrder {
  return {
    kind,
    path,
    sender: 'alice@example.com',
    prefix: 'Delivered-To: u@v.test\n',
    lock: ['dotlock'],
    retry: { attempts: 3, delay: 0.05, stale: 500 },
    sizeLimit: 0,
    ...(ids === null ? {} : { ownerUid: ids.uid }),
  };
}

async function* brokenMessage(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('Subject: half\n\nfirst part\n');
  throw new Error('queue file is damaged');
}

async function* message(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

for (const [how, ids] of [
  ["in the owner's process", NOBODY],
  ["in the agent's process", null],
] as const) {
  test(`a message that cannot be read to its end leaves the mbox as it was (${how})`, async (t) => {
    const dir = mailDir(t);
    const box = join(dir, 'mbox');
    const ok = await deliverAs(ids, order('mbox', box, ids), message('Subject: one\n\nbody\n'));
    assert.equal(ok.ok, true);
    const before = readFileSync(box, 'latin1');
    const r = await deliverAs(ids, order('mbox', box, ids), brokenMessage());
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.status, '4.3.0');
    assert.equal(r.ok === false && r.reason, 'error reading message: queue file is damaged');
    assert.equal(readFileSync(box, 'latin1'), before);
    if (ROOT_USER && ids !== null) assert.equal(statSync(box).uid, 65534);
  });

  test(`a message that cannot be read to its end leaves no Maildir file (${how})`, async (t) => {
    const dir = mailDir(t);
    const md = join(dir, 'u/');
    const r = await deliverAs(ids, order('maildir', md, ids), brokenMessage());
    assert.equal(r.ok, false);
    assert.deepEqual(readdirSync(join(md, 'new')), []);
    assert.deepEqual(readdirSync(join(md, 'tmp')), []);
  });
}

test('as root, a Maildir symlinked by the user into a root-only directory is not written', async (t) => {
  if (!ROOT_USER) {
    t.skip('needs root');
    return;
  }
  const dir = mailDir(t);
  const secret = join(dir, '..', 'root-only');
  mkdirSync(secret, { mode: 0o700 });
  symlinkSync(secret, join(dir, 'u'));
  const r = await deliverAs(NOBODY, order('maildir', join(dir, 'u/')), message('Subject: x\n\nbody\n'));
  assert.equal(r.ok, false);
  assert.equal(r.ok === false && r.code, 'EACCES');
  assert.deepEqual(readdirSync(secret), []);
});

test('as root, an mbox that is a symbolic link is refused, the target left alone', async (t) => {
  if (!ROOT_USER) {
    t.skip('needs root');
    return;
  }
  const dir = mailDir(t);
  const target = join(dir, '..', 'target');
  writeFileSync(target, 'precious\n');
  chownSync(target, 65534, 65534);
  symlinkSync(target, join(dir, 'mbox'));
  const r = await deliverAs(NOBODY, order('mbox', join(dir, 'mbox')), message('Subject: x\n\nbody\n'));
  assert.equal(r.ok, false);
  assert.match(r.ok === false ? r.reason : '', /^delivery failed to mailbox .*: file is a symbolic link$/u);
  assert.equal(readFileSync(target, 'latin1'), 'precious\n');
});

test('as root, files are made by the mailbox owner; a writable mbox of another owner is refused', async (t) => {
  if (!ROOT_USER) {
    t.skip('needs root');
    return;
  }
  const dir = mailDir(t);
  const ok = await deliverAs(NOBODY, order('maildir', join(dir, 'd/e/')), message('Subject: x\n\nbody\n'));
  assert.equal(ok.ok, true);
  for (const p of ['d', 'd/e', 'd/e/new']) assert.equal(statSync(join(dir, p)).uid, 65534, p);
  const other = join(dir, 'other');
  writeFileSync(other, '', { mode: 0o666 });
  chmodSync(other, 0o666);
  const r = await deliverAs(NOBODY, order('mbox', other), message('Subject: x\n\nbody\n'));
  assert.deepEqual(r, {
    ok: false,
    status: '4.2.0',
    reason: `delivery failed to mailbox ${other}: destination ${other} is not owned by recipient`,
    warnings: ['specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch'],
  });
  assert.equal(existsSync(`${other}.lock`), false);
});
