/*
 * qmgr with a delivery agent built on the real skeleton (runDeliveryAgent,
 * as a process on private/local): the requests qmgr sends pass the agent's
 * checks, the agent's log lines carry qmgr's times (delays=a/b/c/d), its
 * defer and bounce records reach the per-recipient logs, and qmgr ends the
 * message accordingly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ROOT } from '../harness/index.js';
import { type Harness, harness } from './fixture.js';

async function startAgent(t: TestContext, h: Harness): Promise<void> {
  const agent = spawn(
    process.execPath,
    [join(ROOT, 'dist/test/qmgr/fixtures/agent.js'), '-n', 'local', '-t', 'unix'],
    { env: { ...process.env, MAIL_CONFIG: h.config }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  agent.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  t.after(() => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
  });
  await h.waitFor('agent socket', () => {
    if (agent.exitCode !== null) throw new Error(`agent exited ${agent.exitCode}: ${stderr}`);
    return existsSync(join(h.queueDir, 'private', 'local'));
  });
}

test('a real agent: sent, bounced and deferred recipients of one message', async (t) => {
  const h = await harness(t);
  await startAgent(t, h);
  await h.startQmgr();
  const id = await h.submit('alice@example.com', [
    'sent@example.com',
    'bounce@example.com',
    'defer@example.com',
  ]);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const log = h.log();
  const line = (who: string) => log.find((l) => l.includes(`${id}: to=<${who}@example.com>`)) ?? '';
  const delays = 'delay=[\\d.]+, delays=[\\d.]+/[\\d.]+/0/[\\d.]+';
  assert.match(
    line('sent'),
    new RegExp(
      `postfix/local\\[\\d+\\]: ${id}: to=<sent@example\\.com>, relay=local, ${delays}, dsn=2\\.0\\.0, status=sent \\(delivered 21 bytes\\)$`,
    ),
  );
  assert.match(
    line('bounce'),
    /postfix\/local\[\d+\]: .*dsn=5\.1\.1, status=bounced \(unknown user: "bounce"\)$/,
  );
  assert.match(line('defer'), /postfix\/local\[\d+\]: .*dsn=4\.2\.2, status=deferred \(mailbox full\)$/);
  const bounce = h.requests.get('bounce') ?? [];
  assert.deepEqual(
    bounce.map((r) => r.request),
    ['append', 'flush'],
  );
  assert.equal((h.requests.get('defer') ?? []).filter((r) => r.request === 'append').length, 1);
  // The retry gets only the deferred recipient.
  await h.trigger('F');
  await h.waitFor(
    'second attempt',
    () => h.log().filter((l) => l.includes(`${id}: to=<defer@example.com>`)).length === 2,
  );
  const second = h.log().filter((l) => l.includes(`${id}: to=<`));
  assert.equal(second.length, 4, second.join('\n'));
});

test('NOTIFY=SUCCESS: the agent makes a trace record, qmgr asks for the success notice', async (t) => {
  const h = await harness(t);
  await startAgent(t, h);
  await h.startQmgr();
  const id = await h.submit('alice@example.com', [{ address: 'sent@example.com', dsnNotify: 2 }]);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => l.endsWith(`${id}: removed`)));
  const trace = h.requests.get('trace') ?? [];
  assert.deepEqual(
    trace.map((r) => r.request),
    ['append', 'flush'],
  );
  assert.equal(trace[1]?.queue_id, id);
  assert.equal(trace[1]?.queue_name, 'active');
});
