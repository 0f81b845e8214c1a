/*
 * The postfix command against what Postfix's says (recorded on a terminal
 * by record_postfix.sh: postfix-script's messages reach stderr only there;
 * otherwise they go to the log alone).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { getpwnam, isRoot } from '../../src/master/master_user.js';
import { GOLDEN, ours, postfixCommand, ROOT, tempDir } from '../harness/index.js';
import {
  adopt,
  alive,
  type Instance,
  makeInstance,
  onTerminal,
  readLog,
  startMaster,
  waitLog,
} from './instance.js';

const DIR = join(GOLDEN, 'postfix');
const POSTFIX = join(ROOT, 'bin/postfix');

function golden(name: string): { err: string; status: number } {
  return {
    err: readFileSync(join(DIR, `${name}.err`), 'utf8'),
    status: Number(readFileSync(join(DIR, `${name}.rc`), 'utf8')),
  };
}

function terminal(t: TestContext, args: string[]): { out: string; status: number | null } | null {
  const r = onTerminal(POSTFIX, args);
  if (r === null) {
    if (process.env.CI === 'true') throw new Error('script(1) is needed (util-linux)');
    t.skip('no script(1) to run on a terminal');
  }
  return r;
}

/** Run a case on a terminal; compare with Postfix's, with our config dir named as Postfix's. */
function expectCase(t: TestContext, inst: Instance, name: string, args: string[], pid?: number): void {
  const r = terminal(t, ['-c', inst.etc, ...args]);
  if (r === null) return;
  const want = golden(name);
  let out = r.out.replaceAll(inst.etc, '/etc/postfix');
  if (pid !== undefined) out = out.replace(`PID: ${pid}`, 'PID: <PID>');
  assert.equal(out, want.err, name);
  assert.equal(r.status, want.status, `${name} exit status`);
}

test('postfix start, status, reload, stop: messages and exit codes as Postfix', (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  expectCase(t, inst, 'status-stopped', ['status']);
  expectCase(t, inst, 'stop-stopped', ['stop']);
  expectCase(t, inst, 'abort-stopped', ['abort']);
  expectCase(t, inst, 'reload-stopped', ['reload']);
  expectCase(t, inst, 'flush-stopped', ['flush']);
  expectCase(t, inst, 'no-command', []);
  expectCase(t, inst, 'bogus-command', ['bogus']);
  expectCase(t, inst, 'bad-option', ['-x', 'status']);
  expectCase(t, inst, 'start', ['start']);
  const pid = Number(readFileSync(join(inst.queue, 'pid/master.pid'), 'utf8'));
  adopt(inst, pid);
  assert.ok(alive(pid));
  expectCase(t, inst, 'status-running', ['status'], pid);
  expectCase(t, inst, 'start-running', ['start']);
  expectCase(t, inst, 'reload-running', ['reload']);
  expectCase(t, inst, 'stop-running', ['stop']);
  // stop returns once master gave up its lock, a moment before its process ends.
  for (let i = 0; i < 100 && alive(pid); i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.ok(!alive(pid), 'master is gone');
  expectCase(t, inst, 'status-after-stop', ['status']);
  expectCase(t, inst, 'start-again', ['start']);
  const pid2 = Number(readFileSync(join(inst.queue, 'pid/master.pid'), 'utf8'));
  adopt(inst, pid2);
  expectCase(t, inst, 'abort-running', ['abort']);
  for (let i = 0; i < 100 && alive(pid2); i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.ok(!alive(pid2), 'abort ends master at once');
  expectCase(t, inst, 'status-after-abort', ['status']);
  const log = readLog(inst);
  assert.match(log, /postfix\/postfix-script\[\d+\]: starting the Postfix mail system\n/);
  assert.match(
    log,
    new RegExp(`postfix/master\\[${pid}\\]: reload -- version 3\\.7\\.11, configuration ${inst.etc}\n`),
  );
  assert.match(log, new RegExp(`postfix/master\\[${pid}\\]: terminating on signal 15\n`));
  assert.match(log, new RegExp(`postfix/master\\[${pid2}\\]: terminating on signal 3\n`));
});

test('off a terminal, postfix-script messages go to the log only', (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  const r = ours('postfix', ['-c', inst.etc, 'status']);
  assert.deepEqual(r, { stdout: '', stderr: '', status: 1 });
  assert.match(
    readLog(inst),
    /^\w{3} [ \d]\d \d\d:\d\d:\d\d mx postfix\/postfix-script\[\d+\]: the Postfix mail system is not running\n$/,
  );
  const bogus = ours('postfix', ['-c', inst.etc, 'bogus']);
  assert.equal(bogus.status, 1);
  assert.match(
    readLog(inst),
    /postfix-script\[\d+\]: fatal: unknown command: 'bogus'\. Usage: postfix start/,
  );
});

test('postfix check: unimplemented parameters, missing commands, queue problems', async (t) => {
  const inst = makeInstance(
    t,
    'echo unix n - n - - echo -o frob_mode=on -o max_idle=10s\nsmtp inet n - n - - smtpd\n',
    'frobnicate_limit = 3\n',
  );
  const r = ours('postfix', ['-c', inst.etc, 'check']);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  const log = readLog(inst);
  assert.match(
    log,
    /postfix\/postfix-script\[\d+\]: warning: parameter frobnicate_limit is set but not implemented by Postroom\n/,
  );
  assert.match(
    log,
    /warning: master\.cf: line 3: service smtp\/inet: command smtpd is not implemented by Postroom -- service disabled\n/,
  );
  assert.doesNotMatch(log, /parameter (queue_directory|daemon_directory|maillog_file) is set/);
  assert.match(
    log,
    /warning: master\.cf: line 2: service echo\/unix: parameter frob_mode is set but not implemented by Postroom\n/,
  );
  assert.doesNotMatch(log, /parameter max_idle is set/);
  assert.ok(existsSync(join(inst.queue, 'incoming')), 'check creates missing queue directories');
  writeFileSync(join(inst.queue, 'corrupt/ABC123'), '');
  // As root the queues belong to mail_owner; postfix-script names the stray.
  if (isRoot()) chownSync(join(inst.queue, 'hold'), 0, 0);
  const tty = terminal(t, ['-c', inst.etc, 'check']);
  if (tty === null) return;
  assert.match(tty.out, /^postfix\/postfix-script: warning: damaged message: corrupt\/ABC123$/m);
  assert.match(
    tty.out,
    /^postfix\/postfix-script: warning: parameter frobnicate_limit is set but not implemented by Postroom$/m,
  );
  if (isRoot())
    assert.match(
      tty.out,
      new RegExp(`^postfix/postfix-script: warning: not owned by postfix: ${inst.queue}/hold$`, 'm'),
    );
  assert.equal(tty.status, 0);
  await waitLog(inst, /damaged message/);
  if (isRoot()) {
    assert.equal(ours('postfix', ['-c', inst.etc, 'set-permissions']).status, 0);
    assert.equal(statSync(join(inst.queue, 'hold')).uid, getpwnam('postfix')?.uid);
  }
});

test('postfix check without the postlog service while maillog_file is set fails as Postfix', (t) => {
  const inst = makeInstance(t, '');
  writeFileSync(join(inst.etc, 'master.cf'), 'echo unix n - n - - echo\n');
  const r = terminal(t, ['-c', inst.etc, 'check']);
  if (r === null) return;
  assert.equal(
    r.out,
    "postfix/postfix-script: fatal: missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'\n",
  );
  assert.equal(r.status, 1);
});

test('as root, an unknown mail_owner stops postfix before anything runs', (t) => {
  if (!isRoot()) {
    t.skip('mail_owner is only checked as root');
    return;
  }
  const inst = makeInstance(t, 'echo unix n - n - - echo\n', 'mail_owner = nosuchuser\n');
  expectCase(t, inst, 'check-bad-owner', ['check']);
  assert.ok(!existsSync(join(inst.queue, 'incoming')));
});

test('postfix start reports a master that cannot start', async (t) => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const inst = makeInstance(t, `127.0.0.1:${port} inet n - n - - echo\n`);
  const r = terminal(t, ['-c', inst.etc, 'start']);
  if (r === null) return;
  assert.equal(
    r.out,
    'postfix/postfix-script: starting the Postfix mail system\n' +
      `postfix/master: fatal: bind 127.0.0.1 port ${port}: Address already in use\n` +
      'postfix/postfix-script: fatal: mail system startup failed\n',
  );
  assert.equal(r.status, 1);
  assert.equal(ours('postfix', ['-c', inst.etc, 'status']).status, 1, 'no lock left behind');
});

test('postfix flush wakes qmgr with "F"', async (t) => {
  const inst = makeInstance(t, 'qmgr unix n - n - 1 tick\n');
  const master = startMaster(inst);
  await waitLog(inst, /daemon started/);
  const r = ours('postfix', ['-c', inst.etc, 'flush']);
  assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
  await waitLog(inst, /postfix\/tick\[\d+\]: trigger F\n/);
  master.kill('SIGTERM');
});

test('live: Postfix 3.7.11 still says what the goldens say', (t) => {
  if (postfixCommand(t, 'postfix') === null) return;
  if (!isRoot() || spawnSync('unshare', ['-m', 'true']).status !== 0) {
    if (process.env.CI === 'true') throw new Error('CI runs as root and can unshare');
    t.skip('needs root and mount namespaces');
    return;
  }
  const out = tempDir(t);
  const r = spawnSync('unshare', ['-m', 'bash', join(ROOT, 'test/master/record_postfix.sh')], {
    // Only the cases without a running Postfix: they do not depend on timing.
    env: { ...process.env, OUT: out, STOPPED_ONLY: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const recorded = readdirSync(out).sort();
  assert.ok(recorded.length >= 18, recorded.join(' '));
  for (const f of recorded)
    assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(DIR, f), 'utf8'), f);
});

test('postfix start-fg runs master in the foreground until it is told to stop', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  const fg = spawn(POSTFIX, ['-c', inst.etc, 'start-fg'], { stdio: 'ignore' });
  const done = new Promise<number | null>((r) => fg.on('exit', (code) => r(code)));
  await waitLog(inst, /daemon started/);
  const pid = Number(readFileSync(join(inst.queue, 'pid/master.pid'), 'utf8'));
  adopt(inst, pid);
  assert.equal(ours('postfix', ['-c', inst.etc, 'status']).status, 0);
  fg.kill('SIGTERM');
  assert.equal(await done, 0);
  assert.match(readLog(inst), new RegExp(`postfix/master\\[${pid}\\]: terminating on signal 15\n`));
  assert.equal(ours('postfix', ['-c', inst.etc, 'status']).status, 1);
});
