/*
 * The mbox locks through the real delivery paths: local(8) as root (the
 * per-uid user worker takes the lock on the descriptor it appends
 * through), and an ordinary user's process appending in-process. Another
 * program's fcntl (lockf) or flock lock must exclude us.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockAddon } from '../../src/local/mailbox_fcntl.js';
import { ROOT, tempDir } from '../harness/index.js';
import { startLocal } from './fixture.js';
import { testUser } from './users.js';

/** python3 holding `kind` on `path` until killed, or for `seconds` and then appending `mark`. */
function holder(
  kind: 'fcntl' | 'flock',
  path: string,
  seconds: number,
  mark = '',
): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const take = kind === 'fcntl' ? 'fcntl.lockf(f,fcntl.LOCK_EX)' : 'fcntl.flock(f,fcntl.LOCK_EX)';
  const py = `import fcntl,sys,time\nf=open(sys.argv[1],"a")\n${take}\nprint("held",flush=True)\ntime.sleep(float(sys.argv[2]))\nf.write(sys.argv[3]);f.flush()`;
  const child = spawn('python3', ['-c', py, path, String(seconds), mark], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  return new Promise((resolve) => child.stdout?.once('data', () => resolve({ child, exited })));
}

function requireAddon(t: import('node:test').TestContext): boolean {
  if (lockAddon()) return true;
  assert.ok(!process.env.CI, 'dist/native/lock.node was not built');
  t.skip('lock addon not built here');
  return false;
}

test('local as root: a held fcntl lock defers the mbox delivery with Postfix wording; released, it is delivered', async (t) => {
  if (!requireAddon(t)) return;
  if (process.getuid?.() !== 0) return t.skip('needs root (per-uid worker)');
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'mailbox_delivery_lock = fcntl\ndeliver_lock_attempts = 1');
  const box = join(lt.spool, 'prtest1');
  writeFileSync(box, '', { mode: 0o600 });
  chownSync(box, u.uid, u.gid);
  const h = await holder('fcntl', box, 60);
  const first = await lt.deliver({ recipients: ['prtest1@host.example'], content: 'Subject: x\n\nbody\n' });
  h.child.kill();
  await h.exited;
  assert.deepEqual(
    first.reply.results.map((r) => r.outcome),
    ['deferred'],
  );
  const [line] = lt.statusLines(first.id);
  assert.match(
    line ?? '',
    /status=deferred \(cannot update mailbox \S+\/prtest1 for user prtest1\. unable to lock for exclusive access: Resource temporarily unavailable\)$/u,
  );
  assert.equal(readFileSync(box, 'utf8'), '');
  const second = await lt.deliver({ recipients: ['prtest1@host.example'], content: 'Subject: y\n\nbody\n' });
  assert.deepEqual(
    second.reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.match(readFileSync(box, 'utf8'), /^From .*\nSubject: y\n\nbody\n\n$/su);
});

for (const kind of ['fcntl', 'flock'] as const) {
  test(`an ordinary user's delivery waits for another program's ${kind} lock`, async (t) => {
    if (!requireAddon(t)) return;
    const root = process.getuid?.() === 0;
    const u = root ? testUser(t, 'prtest1') : undefined;
    if (u === null) return;
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    const box = join(dir, 'mbox');
    writeFileSync(box, '', { mode: 0o600 });
    if (u) chownSync(box, u.uid, u.gid);
    // The holder appends its mark just before it lets go: a delivery that
    // did not wait would come first.
    const h = await holder(kind, box, 0.5, 'HOLDER\n');
    const writer = spawn(
      process.execPath,
      [join(ROOT, 'dist/test/mailbox/mbox_writer.js'), box, 'w', '1', kind],
      { stdio: ['ignore', 'inherit', 'inherit'], ...(u ? { uid: u.uid, gid: u.gid } : {}) },
    );
    const code = await new Promise((r) => writer.once('exit', r));
    await h.exited;
    assert.equal(code, 0);
    const text = readFileSync(box, 'utf8');
    assert.ok(text.startsWith('HOLDER\nFrom w@example.com '), text.slice(0, 60));
  });
}
