import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { triggerPath } from '../../src/master/trigger.js';
import { startDaemon, testQueue } from '../harness/daemon.js';
import { ROOT } from '../harness/index.js';

const FIXTURE = 'test/daemon/fixtures/echo_service.js';

function ask(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => s.write(`${text}\n`));
    s.once('data', (b) => {
      resolve(b.toString());
      s.end();
    });
    s.on('error', reject);
  });
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('stand-alone, a service listens where master.cf puts it (public when private = n)', async (t) => {
  const q = await testQueue(t, '', 'pub unix n - n - - echo\npriv unix - - n - - echo\n');
  await startDaemon(t, q, FIXTURE, ['-n', 'pub', '-t', 'unix'], 'public/pub');
  await startDaemon(t, q, FIXTURE, ['-n', 'priv', '-t', 'unix'], 'private/priv');
  assert.equal(await ask(join(q.queueDir, 'public/pub'), 'hello'), 'pub:hello\n');
  assert.equal(await ask(join(q.queueDir, 'private/priv'), 'hi'), 'priv:hi\n');
});

test('a trigger service gets the bytes each client wrote, and logs as postfix/<program>', async (t) => {
  const q = await testQueue(t, '', 'wake unix n - n - 1 echo\n');
  await startDaemon(t, q, FIXTURE, ['-n', 'wake', '-t', 'unix'], 'public/wake', { FIXTURE_KIND: 'trigger' });
  assert.equal(await triggerPath(join(q.queueDir, 'public/wake'), 'A'), true);
  assert.equal(await triggerPath(join(q.queueDir, 'public/wake'), 'WD'), true);
  assert.equal(await triggerPath(join(q.queueDir, 'public/nobody'), 'A'), false);
  await waitFor(() => /trigger WD/.test(readFileSync(q.maillog, 'utf8')), 'the second trigger in the log');
  const log = readFileSync(q.maillog, 'utf8');
  assert.match(log, /postfix\/echo\[\d+\]: trigger A\n/);
});

test('under master: the listener comes over IPC and maxproc bounds the clients served at once', async (t) => {
  const q = await testQueue(t);
  const path = join(q.queueDir, 'private/limited');
  // As master does: a connection master accepts must reach the service unread.
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => server.close());
  const child = fork(join(ROOT, 'dist', FIXTURE), ['-n', 'limited', '-t', 'unix'], {
    env: { ...process.env, MAIL_CONFIG: q.configDir },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    child.on('exit', (code) => reject(new Error(`fixture exited ${code}`)));
  });
  child.send({ type: 'listen', limit: 1 }, server);
  // Master and service share the listener; what master accepts it forwards.
  server.on('connection', (s) => child.send({ type: 'connection' }, s));

  const first = await new Promise<Socket>((resolve) => {
    const s = connect(path, () => resolve(s));
  });
  first.write('one\n');
  assert.equal((await new Promise<Buffer>((r) => first.once('data', r))).toString(), 'limited:one\n');
  // The second client is accepted but not served while the first is connected.
  let second = '';
  const s2 = connect(path, () => s2.write('two\n'));
  s2.on('data', (b) => (second += b));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(second, '');
  first.end();
  await waitFor(() => second === 'limited:two\n', 'the waiting client to be served');
  s2.end();

  // stop: the process finishes and exits 0.
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.send({ type: 'stop' });
  assert.equal(await exited, 0);
});

test('an uncaught error in a service is fatal: logged, exit status 1', async (t) => {
  const q = await testQueue(t, '', 'boom unix n - n - - echo\n');
  const child = await startDaemon(t, q, FIXTURE, ['-n', 'boom', '-t', 'unix'], 'public/boom');
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const s = connect(join(q.queueDir, 'public/boom'), () => s.write('crash\n'));
  s.on('error', () => {});
  assert.equal(await exited, 1);
  assert.match(readFileSync(q.maillog, 'utf8'), /postfix\/echo\[\d+\]: fatal: echo: Error: asked to crash/);
});
