/*
 * The mailbox owner's process (src/virtual/delivery.ts): as root a
 * delivery runs with the recipient's uid/gid, so what the user controls
 * under the mail directory cannot make it write elsewhere; a message that
 * cannot be read to its end is never delivered cut off.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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
import { FRAME, frame } from '../../src/local/user_ops.js';
import { type DeliveryOrder, deliverAs, type UserIds } from '../../src/virtual/delivery.js';
import { ROOT, tempDir } from '../harness/index.js';

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

/** This process's worker processes running as uid 65534. */
function nobodyWorkers(): string[] {
  const ps = spawnSync('ps', ['-u', '65534', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/u))
    .filter((f) => f[1] === String(process.pid) && f.some((a) => a.endsWith('user_worker.js')))
    .map((f) => f[0] ?? '');
}

test('as root, the worker that undid a cut-off message delivers the next one', async (t) => {
  if (!ROOT_USER) {
    t.skip('needs root');
    return;
  }
  const dir = mailDir(t);
  const box = join(dir, 'mbox');
  const md = join(dir, 'u/');
  assert.equal((await deliverAs(NOBODY, order('mbox', box), message('Subject: one\n\nbody\n'))).ok, true);
  const used = nobodyWorkers();
  assert.equal(used.length, 1, used.join(' '));
  const before = readFileSync(box, 'latin1');
  assert.equal((await deliverAs(NOBODY, order('mbox', box), brokenMessage())).ok, false);
  assert.equal(readFileSync(box, 'latin1'), before);
  assert.equal((await deliverAs(NOBODY, order('maildir', md), brokenMessage())).ok, false);
  const r = await deliverAs(NOBODY, order('maildir', md), message('Subject: two\n\nbody\n'));
  assert.deepEqual(r, { ok: true, warnings: [] });
  assert.equal(readdirSync(join(md, 'new')).length, 1);
  assert.deepEqual(readdirSync(join(md, 'tmp')), []);
  assert.deepEqual(nobodyWorkers(), used);
});

test('as root, a worker whose agent goes away in the middle of a message undoes it', async (t) => {
  if (!ROOT_USER) {
    t.skip('needs root');
    return;
  }
  const dir = mailDir(t);
  const box = join(dir, 'mbox');
  assert.equal((await deliverAs(NOBODY, order('mbox', box), message('Subject: one\n\nbody\n'))).ok, true);
  const before = readFileSync(box, 'latin1');
  const w = spawn(process.execPath, [join(ROOT, 'dist/src/local/user_worker.js'), '65534', '65534'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  });
  let out = '';
  w.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const { path, sender, prefix, lock, retry, sizeLimit } = order('mbox', box);
  w.stdin.write(
    frame(FRAME.OP, 1, JSON.stringify({ op: 'mbox', path, sender, prefix, lock, retry, sizeLimit })),
  );
  w.stdin.write(frame(FRAME.CONTENT, 1, 'Subject: half\n\nfirst part\n'));
  w.stdin.end();
  const code = await new Promise<number | null>((resolve) => w.once('close', resolve));
  assert.equal(code, 0);
  assert.equal((JSON.parse(out) as { ok: boolean }).ok, false);
  assert.equal(readFileSync(box, 'latin1'), before);
});
