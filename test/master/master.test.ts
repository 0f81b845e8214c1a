/*
 * master as a user runs it: real processes, real sockets, the log file.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getpwnam, isRoot } from '../../src/master/master_user.js';
import { run } from '../harness/index.js';
import {
  alive,
  client,
  exited,
  logPids,
  MASTER_JS,
  makeInstance,
  readLog,
  startMaster,
  stderrOf,
  waitLog,
} from './instance.js';

const STARTED = /daemon started -- version 3\.7\.11, configuration /;

test('services start on demand, once; the process limit bounds the connections served at once', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - 2 echo\n');
  startMaster(inst);
  await waitLog(inst, STARTED);
  assert.match(
    readLog(inst),
    new RegExp(`postfix/master\\[\\d+\\]: daemon started -- version 3\\.7\\.11, configuration ${inst.etc}\n`),
  );
  const sock = join(inst.queue, 'public/echo');
  assert.equal((statSync(sock).mode & 0o777).toString(8), '666');
  assert.doesNotMatch(readLog(inst), /echo ready/, 'not started before a client comes');
  const a = client(sock);
  const b = client(sock);
  const [la] = await a.waitLines(1);
  const [lb] = await b.waitLines(1);
  assert.match(la!, /^pid \d+$/);
  assert.equal(lb, la, 'one process serves both');
  const c = client(sock);
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(c.lines, [], 'the third waits: maxproc 2');
  a.close();
  await c.waitLines(1);
  assert.equal(c.lines[0], la);
  b.close();
  c.close();
  assert.equal(logPids(readLog(inst), 'postfix/echo').length, 1);
});

test('inet services listen on host:port; a bare port uses inet_interfaces', async (t) => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const inst = makeInstance(t, `${port} inet n - n - - echo\n`);
  startMaster(inst);
  await waitLog(inst, STARTED);
  const c = client({ host: '127.0.0.1', port });
  c.send('hello\n');
  const lines = await c.waitLines(2);
  assert.match(lines[0]!, /^pid \d+$/);
  assert.equal(lines[1], 'hello');
  c.close();
  assert.match(readLog(inst), new RegExp(`echo ready as ${port} `));
  // The process has the listener; killed, master takes connections again and starts another.
  await new Promise((r) => setTimeout(r, 200));
  process.kill(Number(lines[0]!.slice(4)), 'SIGKILL');
  const d = client({ host: '127.0.0.1', port });
  const [again] = await d.waitLines(1);
  assert.match(again!, /^pid \d+$/);
  assert.notEqual(again, lines[0], 'a new process');
  d.close();
});

test('wakeup services get "W" every wakeup seconds from start-up; "?" ones only after use', async (t) => {
  const inst = makeInstance(t, 'tick unix n - n 1 1 tick\nlazy unix n - n 1? 1 tick\n');
  startMaster(inst);
  const log = await waitLog(inst, /trigger W[\s\S]*trigger W/, 5000);
  assert.equal(logPids(log, 'postfix/tick').length, 1, 'only the plain wakeup service runs');
  assert.ok(!existsSync(join(inst.queue, 'private/lazy')) && existsSync(join(inst.queue, 'public/lazy')));
  const c = client(join(inst.queue, 'public/lazy'));
  c.send('X');
  c.close();
  const after = await waitLog(inst, /trigger X[\s\S]*trigger W[\s\S]*trigger W/, 5000);
  assert.equal(logPids(after, 'postfix/tick').length, 2);
});

test('a running service accepts its connections itself; killed, the next connection starts a new one', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  startMaster(inst);
  await waitLog(inst, STARTED);
  const sock = join(inst.queue, 'public/echo');
  const ask = async (): Promise<{ pid: string; handed: number }> => {
    const c = client(sock);
    const [pid] = await c.waitLines(1);
    c.send('handed\n');
    const lines = await c.waitLines(2);
    c.close();
    await c.closed;
    return { pid: pid as string, handed: Number(lines[1]?.replace('handed ', '')) };
  };
  // The first connection started the process, so master passed it over.
  // Once the process has the listener, master no longer takes any.
  const first = await ask();
  assert.ok(first.handed >= 1, `the first was handed over: ${first.handed}`);
  let last = first;
  let direct = 0;
  for (const end = Date.now() + 10_000; direct < 20 && Date.now() < end; ) {
    const r = await ask();
    assert.equal(r.pid, first.pid, 'the same process');
    direct = r.handed === last.handed ? direct + 1 : 0;
    last = r;
  }
  assert.equal(direct, 20, `master still passes connections over (${last.handed} so far)`);
  // Killed: the socket stays (master holds it) and the next client is served by a new process.
  process.kill(Number(first.pid.slice(4)), 'SIGKILL');
  assert.ok(existsSync(sock));
  const next = await ask();
  assert.notEqual(next.pid, first.pid, 'a new process');
  await waitLog(inst, /echo\/main\.js pid \d+ killed by signal 9\n/);
});

test('a crash is logged and the service restarts on demand; a bad start-up is throttled', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\nbad unix n - n - - badstart\n');
  startMaster(inst);
  await waitLog(inst, STARTED);
  const sock = join(inst.queue, 'public/echo');
  const a = client(sock);
  const [first] = await a.waitLines(1);
  a.send('crash\n');
  await a.closed;
  const pid = Number(first!.slice(4));
  await waitLog(
    inst,
    new RegExp(`warning: process ${inst.daemons}/echo/main\\.js pid ${pid} exit status 3\n`),
  );
  const b = client(sock);
  const [second] = await b.waitLines(1);
  assert.notEqual(second, first, 'a new process');
  b.close();
  assert.doesNotMatch(
    readLog(inst),
    /echo.*bad command startup/,
    `it had served: no throttling\n${stderrOf(inst)}`,
  );

  const started = Date.now();
  client(join(inst.queue, 'public/bad')).send('x');
  await waitLog(
    inst,
    new RegExp(
      `warning: process ${inst.daemons}/badstart/main\\.js pid \\d+ exit status 2\n.*warning: ${inst.daemons}/badstart/main\\.js: bad command startup -- throttling\n`,
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(readLog(inst).match(/badstart.*exit status 2/g)?.length, 1, 'nothing started while throttled');
  // service_throttle_time = 2s: the waiting client gets another try after it.
  const log = await waitLog(inst, /(badstart.*exit status 2[\s\S]*){2}/, 5000);
  assert.ok(Date.now() - started >= 1900, `retried after ${Date.now() - started} ms`);
  assert.equal(log.match(/bad command startup -- throttling/g)?.length, 2);
});

test('reload picks up a new service and drops a removed one; stop leaves no process and no socket', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n', 'bogus_setting = 1\n');
  const master = startMaster(inst);
  await waitLog(inst, STARTED);
  assert.match(
    readLog(inst),
    /postfix\/master\[\d+\]: warning: parameter bogus_setting is set but not implemented by Postroom\n/,
  );
  const a = client(join(inst.queue, 'public/echo'));
  await a.waitLines(1);
  a.close();
  appendFileSync(join(inst.etc, 'master.cf'), 'echo2 unix - - n - - echo\n');
  run('sed', ['-i', '/^echo /d', join(inst.etc, 'master.cf')]);
  master.kill('SIGHUP');
  await waitLog(inst, new RegExp(`reload -- version 3\\.7\\.11, configuration ${inst.etc}\n`));
  await waitLog(inst, /(bogus_setting is set but not implemented[\s\S]*){2}/);
  // master logs the reload before it binds the new service's socket, as Postfix does.
  const echo2 = join(inst.queue, 'private/echo2');
  for (let n = 0; !existsSync(echo2) && n < 250; n++) await new Promise((r) => setTimeout(r, 20));
  const b = client(echo2);
  await b.waitLines(1);
  b.close();
  assert.ok(!existsSync(join(inst.queue, 'public/echo')), 'the removed service no longer listens');
  await waitLog(inst, /echo ready as echo2/);

  const pids = [...logPids(readLog(inst), 'postfix/echo'), ...logPids(readLog(inst), 'postfix/postlogd')];
  master.kill('SIGTERM');
  assert.deepEqual(await exited(master), { code: 0, signal: null });
  assert.match(readLog(inst), /postfix\/master\[\d+\]: terminating on signal 15\n/);
  for (const pid of pids) assert.ok(!alive(pid), `process ${pid} is gone`);
  assert.ok(!existsSync(join(inst.queue, 'private/echo2')));
  assert.ok(!existsSync(join(inst.dir, 'data/master.lock')));
});

test('a second master for the same configuration refuses to start', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  startMaster(inst);
  await waitLog(inst, STARTED);
  const pidFile = join(inst.queue, 'pid/master.pid');
  assert.match(readLog(inst), new RegExp(`master\\[${Number(run('cat', [pidFile]).stdout)}\\]`));
  assert.equal(run('cat', [pidFile]).stdout.length, 33, 'Postfix\'s "%32lu\\n"');
  const second = run(process.execPath, [MASTER_JS, '-c', inst.etc]);
  assert.equal(second.status, 1);
  assert.match(readLog(inst), /postfix\/master\[\d+\]: fatal: the Postfix mail system is already running\n/);
  assert.equal(run(process.execPath, [MASTER_JS, '-c', inst.etc, '-t']).status, 1);
});

test('a command Postroom lacks is reported once and not listened for', async (t) => {
  const inst = makeInstance(t, 'smtp inet n - n - - smtpd\necho unix n - n - - echo\n');
  startMaster(inst);
  const log = await waitLog(inst, STARTED);
  assert.match(
    log,
    /warning: master\.cf: line 2: service smtp\/inet: command smtpd is not implemented by Postroom -- service disabled\n/,
  );
  assert.equal(log.match(/smtpd is not implemented/g)?.length, 1);
});

test('as root, unprivileged services run as mail_owner and privileged ones as root', async (t) => {
  if (!isRoot()) {
    t.skip('needs root');
    return;
  }
  const owner = getpwnam('postfix');
  assert.ok(owner, 'the postfix account exists (Debian package; .ci/run)');
  const inst = makeInstance(t, 'unpriv unix n - n - - echo\npriv unix n n n - - echo\n');
  startMaster(inst);
  await waitLog(inst, STARTED);
  for (const name of ['unpriv', 'priv']) {
    const c = client(join(inst.queue, 'public', name));
    await c.waitLines(1);
    c.close();
  }
  const log = await waitLog(
    inst,
    /echo ready as unpriv[\s\S]*echo ready as priv|echo ready as priv[\s\S]*echo ready as unpriv/,
  );
  assert.match(log, new RegExp(`echo ready as unpriv uid ${owner.uid}\n`));
  assert.match(log, /echo ready as priv uid 0\n/);
  assert.equal(statSync(join(inst.queue, 'incoming')).uid, owner.uid);
});

test('stop lets a connection in hand finish; a broken master.cf at reload keeps the running set-up', async (t) => {
  const inst = makeInstance(t, 'echo unix n - n - - echo\n');
  const master = startMaster(inst);
  await waitLog(inst, STARTED);
  writeFileSync(join(inst.etc, 'master.cf'), 'echo unix n - n - -\n');
  master.kill('SIGHUP');
  await waitLog(inst, /warning: reload failed, keeping the running configuration: .*bad field count\n/);
  const a = client(join(inst.queue, 'public/echo'));
  await a.waitLines(1);
  master.kill('SIGTERM');
  await waitLog(inst, /terminating on signal 15/);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(master.exitCode, null, 'master waits for the connection in hand');
  a.send('still here\n');
  await a.waitLines(2);
  assert.equal(a.lines[1], 'still here');
  a.close();
  assert.deepEqual(await exited(master), { code: 0, signal: null });
  assert.doesNotMatch(readLog(inst), /killed by signal/);
});
