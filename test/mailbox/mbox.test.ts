import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { asctime, deliverMbox, fromLine, type MboxDelivery, parseMboxLock } from '../../src/global/mbox.js';
import { msg } from '../../src/global/msg.js';
import { deliveryHeaders, MailboxError } from '../../src/local/mailbox_copy.js';
import { fcntlLockAvailable, lockAddon, useLockAddon } from '../../src/local/mailbox_fcntl.js';
import { GOLDEN, ROOT, tempDir } from '../harness/index.js';
import { cut, pythonRead, quoteWhole } from './helpers.js';

process.env.TZ = 'UTC';
const NOW = new Date(Date.UTC(2026, 10, 5, 9, 8, 7));
const RETRY = { attempts: 3, delay: 0.01, stale: 500 };

function req(path: string, more: Partial<MboxDelivery>): MboxDelivery {
  return {
    path,
    sender: 'alice@example.com',
    content: '',
    lock: ['fcntl', 'dotlock'],
    retry: RETRY,
    now: NOW,
    ...more,
  };
}

async function rejects(p: Promise<unknown>): Promise<MailboxError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MailboxError, String(e));
    return e;
  }
  assert.fail('delivery succeeded');
}

test('From line: asctime with a space-padded day, two spaces, MAILER-DAEMON for the null sender', () => {
  assert.equal(asctime(NOW), 'Thu Nov  5 09:08:07 2026');
  assert.equal(fromLine('', NOW), 'From MAILER-DAEMON  Thu Nov  5 09:08:07 2026\n');
  assert.equal(fromLine('a@b', NOW), 'From a@b  Thu Nov  5 09:08:07 2026\n');
});

test('two deliveries give the mailbox Postfix writes (golden), and Python reads them back', async (t) => {
  const box = join(tempDir(t), 'alice');
  const prefix = deliveryHeaders({
    returnPath: 'alice@example.com',
    originalRecipient: 'al@example.com',
    deliveredTo: 'alice@example.com',
  });
  await deliverMbox(
    req(box, {
      prefix,
      content: cut(
        Buffer.from('Subject: one\n\nFrom here\n>From there\nFrom\nFromage\n From x\nlast'),
        [13, 15, 16, 17, 30, 33, 46],
      ),
    }),
  );
  await deliverMbox(req(box, { sender: '', content: 'Subject: two\n\nbody\n' }));
  const got = readFileSync(box, 'latin1');
  assert.equal(got, readFileSync(join(GOLDEN, 'mailbox/mbox-two.txt'), 'latin1'));
  assert.equal(statSync(box).mode & 0o777, 0o600);
  assert.equal(existsSync(`${box}.lock`), false);

  const msgs = pythonRead('mbox', box);
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0]?.from, 'alice@example.com  Thu Nov  5 09:08:07 2026');
  assert.equal(msgs[1]?.from, 'MAILER-DAEMON  Thu Nov  5 09:08:07 2026');
  assert.match(
    msgs[0]?.bytes ?? '',
    /^Return-Path: <alice@example.com>\nX-Original-To: al@example.com\nDelivered-To: /u,
  );
  assert.match(
    msgs[0]?.bytes ?? '',
    /\n>From here\n>From there\nFrom\nFromage\n From x\nlast\n$/u,
    'Python drops the separating empty line',
  );
  assert.equal(msgs[1]?.bytes, 'Subject: two\n\nbody\n');
});

test('quoting does not depend on where the stream is cut (property)', async (t) => {
  const dir = tempDir(t);
  let n = 0;
  const line = fc.constantFrom('From a', 'From ', 'Fro', 'From', '>From x', 'x From y', '', 'F', 'text');
  await fc.assert(
    fc.asyncProperty(
      fc.array(line, { maxLength: 12 }),
      fc.array(fc.nat(200), { maxLength: 8 }),
      async (lines, at) => {
        const text = lines.join('\n');
        const box = join(dir, `m${n++}`);
        await deliverMbox(req(box, { content: cut(Buffer.from(text), at), lock: ['dotlock'] }));
        const body = quoteWhole(text);
        const expect = `${fromLine('alice@example.com', NOW)}${body}${body === '' || body.endsWith('\n') ? '' : '\n'}\n`;
        assert.equal(readFileSync(box, 'latin1'), expect);
      },
    ),
    { numRuns: 150 },
  );
});

test('a write that passes the size limit leaves the mailbox as it was: 5.2.2 File too large', async (t) => {
  const box = join(tempDir(t), 'bob');
  writeFileSync(box, 'From x  Thu Nov  5 09:08:07 2026\nold\n\n', { mode: 0o600 });
  const before = readFileSync(box);
  const e = await rejects(deliverMbox(req(box, { content: 'x'.repeat(200_000), sizeLimit: 100_000 })));
  assert.equal(e.status, '5.2.2');
  assert.equal(e.message, 'error writing message: File too large');
  assert.deepEqual(readFileSync(box), before);
  assert.equal(existsSync(`${box}.lock`), false);
  await deliverMbox(req(box, { content: 'small\n', sizeLimit: 100_000 }));
  assert.equal(pythonRead('mbox', box).length, 2);
});

test('a failure while reading the message truncates back and defers (4.3.0)', async (t) => {
  const box = join(tempDir(t), 'carol');
  await deliverMbox(req(box, { content: 'Subject: first\n\nok\n' }));
  const before = readFileSync(box);
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('Subject: second\n\n');
    yield Buffer.alloc(100_000, 0x61);
    throw Object.assign(new Error('queue file read error'), { code: 'EIO' });
  }
  const e = await rejects(deliverMbox(req(box, { content: broken() })));
  assert.equal(e.status, '4.3.0');
  assert.equal(e.message, 'error writing message: Input/output error');
  assert.deepEqual(readFileSync(box), before);
});

test('symbolic links, hard links and non-files are refused (5.2.0); nothing is written', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'target'), 'x');
  symlinkSync(join(dir, 'target'), join(dir, 'sym'));
  linkSync(join(dir, 'target'), join(dir, 'hard'));
  const sym = await rejects(deliverMbox(req(join(dir, 'sym'), { content: 'a\n' })));
  assert.equal(sym.status, '5.2.0');
  assert.equal(sym.message, 'file is a symbolic link');
  const hard = await rejects(deliverMbox(req(join(dir, 'hard'), { content: 'a\n' })));
  assert.equal(hard.message, 'file has 2 hard links');
  const notFile = await rejects(deliverMbox(req(dir, { content: 'a\n' })));
  assert.equal(notFile.message, `destination ${dir} is not a regular file`);
  assert.equal(readFileSync(join(dir, 'target'), 'utf8'), 'x');
});

test('dotlock: a busy lock defers after deliver_lock_attempts (4.2.0); a stale one is removed', async (t) => {
  const box = join(tempDir(t), 'dave');
  writeFileSync(`${box}.lock`, '');
  const e = await rejects(deliverMbox(req(box, { content: 'a\n' })));
  assert.equal(e.status, '4.2.0');
  assert.equal(e.message, `unable to create lock file ${box}.lock: File exists`);
  assert.equal(existsSync(box), false);
  assert.equal(existsSync(`${box}.lock`), true, 'a lock that is not ours stays');
  await deliverMbox(req(box, { content: 'a\n', retry: { attempts: 3, delay: 0.01, stale: 0 } }));
  assert.equal(pythonRead('mbox', box).length, 1);
  assert.equal(existsSync(`${box}.lock`), false);
});

test('a dot lock that cannot be made: fatal to the delivery (5.2.0) when it is the only lock, else a warning', async (t) => {
  const box = join(tempDir(t), 'no', 'such', 'dir', 'erin');
  const e = await rejects(deliverMbox(req(box, { content: 'a\n', lock: ['dotlock'] })));
  assert.equal(e.status, '5.2.0');
  assert.equal(e.message, `unable to create lock file ${box}.lock: No such file or directory`);

  const lines: string[] = [];
  msg.setSink((_l, line) => lines.push(line));
  t.after(() => msg.setSink(null));
  const e2 = await rejects(deliverMbox(req(box, { content: 'a\n', lock: ['fcntl', 'dotlock'] })));
  assert.equal(e2.status, '5.2.0');
  assert.equal(e2.message, 'cannot create file exclusively: No such file or directory');
  assert.deepEqual(lines, [
    `${msg.program}: warning: unable to create lock file ${box}.lock: No such file or directory`,
  ]);
});

test('mailbox_delivery_lock values', () => {
  assert.deepEqual(parseMboxLock('fcntl, dotlock'), ['fcntl', 'dotlock']);
  assert.deepEqual(parseMboxLock('DotLock flock'), ['dotlock', 'flock']);
  assert.equal(
    parseMboxLock(''),
    'parameter mailbox_delivery_lock specifies no applicable mailbox locking method',
  );
  assert.equal(
    parseMboxLock('fnctl', 'virtual_mailbox_lock'),
    'unknown mailbox lock value "fnctl" in "fnctl"',
  );
});

async function concurrentDeliveries(
  box: string,
  tags: readonly string[],
  per: number,
  locking: string,
): Promise<void> {
  const writer = join(ROOT, 'dist/test/mailbox/mbox_writer.js');
  await Promise.all(
    tags.map(
      (tag) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [writer, box, tag, String(per), locking], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d) => {
            err += d;
          });
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`${tag}: exit ${code}: ${err}`)),
          );
        }),
    ),
  );
}

// MAILBOX_TEST_NOLOCK=1 runs the writers without locks: the test must then fail (it did when written).
for (const locks of ['fcntl,dotlock', 'fcntl', 'dotlock', 'flock']) {
  test(`several processes delivering to one mbox at once do not interleave (${locks})`, async (t) => {
    if (locks !== 'dotlock' && !fcntlLockAvailable()) t.skip('no lock helper here');
    const box = join(tempDir(t), 'shared');
    const tags = ['p1', 'p2', 'p3', 'p4'];
    const PER = 4;
    await concurrentDeliveries(box, tags, PER, process.env.MAILBOX_TEST_NOLOCK ? 'nolock' : locks);
    const msgs = pythonRead('mbox', box);
    assert.equal(msgs.length, tags.length * PER);
    for (const m of msgs) {
      const tag = /^Subject: (p\d) \d+\n/u.exec(m.bytes)?.[1];
      assert.ok(tag, m.bytes.slice(0, 40));
      assert.equal(m.from?.split(' ')[0], `${tag}@example.com`);
      const lines = m.bytes.replace(/\n+$/u, '').split('\n');
      const body = lines.slice(2, -1);
      assert.ok(
        body.length === 40000 && body.every((l) => l === `${tag} line of text`),
        `message from ${tag} has foreign lines`,
      );
      assert.equal(lines.at(-1), '>From the end');
    }
    assert.equal(existsSync(`${box}.lock`), false);
  });
}

/** A process holding a lock on `path` for `ms` milliseconds; resolves once it holds it. */
function holder(kind: 'fcntl' | 'flock', path: string, ms: number): Promise<{ exited: Promise<unknown> }> {
  const py =
    kind === 'fcntl'
      ? 'import fcntl,sys,time\nf=open(sys.argv[1],"a")\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint("held",flush=True)\ntime.sleep(float(sys.argv[2]))'
      : 'import fcntl,sys,time\nf=open(sys.argv[1],"a")\nfcntl.flock(f,fcntl.LOCK_EX)\nprint("held",flush=True)\ntime.sleep(float(sys.argv[2]))';
  const child = spawn('python3', ['-c', py, path, String(ms / 1000)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  return new Promise((resolve) => child.stdout?.once('data', () => resolve({ exited })));
}

/** Lock through the addon or the perl helper for the rest of test `t`; false when that is not available. */
function lockVia(t: import('node:test').TestContext, via: 'addon' | 'helper'): boolean {
  if (via === 'addon' && !lockAddon()) {
    // CI installs a C compiler: there a missing addon is a build failure, not a reason to skip.
    assert.ok(!process.env.CI, 'dist/native/lock.node was not built');
    t.skip('lock addon not built here');
    return false;
  }
  if (via === 'helper' && !fcntlLockAvailable()) {
    t.skip('no lock helper here');
    return false;
  }
  useLockAddon(via === 'addon');
  t.after(() => useLockAddon(true));
  return true;
}

test('the lock addon is built and locks a descriptor (required under CI)', (t) => {
  const lib = lockAddon();
  if (!lib) {
    assert.ok(!process.env.CI, 'dist/native/lock.node was not built');
    t.skip('lock addon not built here (no C compiler at build time)');
    return;
  }
  const box = join(tempDir(t), 'iris');
  writeFileSync(box, '');
  const a = openSync(box, 'a');
  const b = openSync(box, 'a');
  try {
    for (const style of ['fcntl', 'flock'] as const) {
      assert.equal(lib.lock(a, style), 0);
      // A second open file description, even in this process, is excluded.
      assert.equal(lib.strerror(lib.lock(b, style)), 'Resource temporarily unavailable');
      assert.equal(lib.unlock(a, style), 0);
      assert.equal(lib.lock(b, style), 0);
      assert.equal(lib.unlock(b, style), 0);
    }
    assert.equal(lib.lock(-1, 'fcntl'), lib.lock(a, 'nonsense' as 'fcntl'));
    assert.equal(lib.strerror(lib.lock(999_999, 'flock')), 'Bad file descriptor');
  } finally {
    closeSync(a);
    closeSync(b);
  }
});

for (const [kind, via] of [
  ['fcntl', 'addon'],
  ['flock', 'addon'],
  ['fcntl', 'helper'],
  ['flock', 'helper'],
] as const) {
  test(`${kind} (${via}): another program's lock makes us wait, and defer (4.2.0) when it is not released in time`, async (t) => {
    if (!lockVia(t, via)) return;
    const box = join(tempDir(t), 'frank');
    writeFileSync(box, '', { mode: 0o600 });
    let child = await holder(kind, box, 400);
    const e = await rejects(
      deliverMbox(
        req(box, {
          content: 'a\n',
          lock: [kind, 'dotlock'],
          retry: { attempts: 3, delay: 0.02, stale: 500 },
        }),
      ),
    );
    assert.equal(e.status, '4.2.0');
    assert.equal(e.message, 'unable to lock for exclusive access: Resource temporarily unavailable');
    assert.equal(readFileSync(box, 'utf8'), '');
    assert.equal(existsSync(`${box}.lock`), false, 'our dot lock is removed again');
    await child.exited;
    child = await holder(kind, box, 300);
    const started = Date.now();
    await deliverMbox(
      req(box, { content: 'a\n', lock: [kind], retry: { attempts: 100, delay: 0.05, stale: 500 } }),
    );
    assert.ok(Date.now() - started >= 150, 'waited for the other lock');
    assert.equal(pythonRead('mbox', box).length, 1);
    await child.exited;
  });
}

/** Our perl child processes, from /proc (no procps needed). */
function perlChildren(): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/u.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return stat.includes('(perl)') && fields[1] === String(process.pid);
      } catch {
        return false;
      }
    });
}

test('a lock helper that dies during the delivery: the delivery is undone and deferred (4.2.0)', async (t) => {
  if (!lockVia(t, 'helper')) return;
  const box = join(tempDir(t), 'gina');
  writeFileSync(box, 'From x  Thu Nov  5 09:08:07 2026\nold\n\n', { mode: 0o600 });
  const before = readFileSync(box);
  async function* content(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('Subject: x\n\n');
    const pids = perlChildren();
    assert.equal(pids.length, 1, 'one lock helper');
    process.kill(Number(pids[0]), 'SIGKILL');
    await sleep(100);
    yield Buffer.from('body\n');
  }
  const e = await rejects(deliverMbox(req(box, { content: content(), lock: ['fcntl'] })));
  assert.equal(e.status, '4.2.0');
  assert.equal(e.message, 'mailbox lock was lost during delivery');
  assert.deepEqual(readFileSync(box), before);
});

for (const [locks, via] of [
  [['fcntl'], 'addon'],
  [['flock'], 'addon'],
  [['fcntl'], 'helper'],
  [['dotlock'], 'addon'],
] as const) {
  test(`concurrent deliveries from one process to one mbox do not interleave (${locks.join(',')}, ${via})`, async (t) => {
    if (locks[0] !== 'dotlock' && !lockVia(t, via)) return;
    const box = join(tempDir(t), 'henry');
    async function* slow(tag: string): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`Subject: ${tag}\n\n`);
      for (let n = 0; n < 12; n++) {
        yield Buffer.from(`${tag} line\n`.repeat(2000));
        await sleep(1);
      }
    }
    const tags = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const retry = { attempts: 1000, delay: 0.005, stale: 500 };
    await Promise.all(tags.map((tag) => deliverMbox(req(box, { content: slow(tag), lock: locks, retry }))));
    const msgs = pythonRead('mbox', box);
    assert.equal(msgs.length, tags.length);
    for (const m of msgs) {
      const tag = /^Subject: (t\d)\n/u.exec(m.bytes)?.[1];
      const body = m.bytes.replace(/\n+$/u, '').split('\n').slice(2);
      assert.ok(
        body.length === 24000 && body.every((l) => l === `${tag} line`),
        `message ${tag} is interleaved`,
      );
    }
  });
}
