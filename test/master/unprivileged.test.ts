/*
 * A whole instance run by an ordinary user (prtestmta, made by .ci/run):
 * no root checks, every process runs as that user.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getpwnam, isRoot } from '../../src/master/master_user.js';
import { ROOT } from '../harness/index.js';
import { adopt, alive, client, logPids, makeInstance, readLog, waitLog } from './instance.js';

test('an ordinary user starts, uses and stops an instance of their own', async (t) => {
  const user = getpwnam('prtestmta');
  if (!isRoot() || !user) {
    if (process.env.CI === 'true') throw new Error('CI runs as root with the prtestmta account (.ci/run)');
    t.skip('needs root and the prtestmta account');
    return;
  }
  const inst = makeInstance(t, 'echo unix n - n - - echo\n', 'mail_owner = nosuchuser\n', user);
  const postfix = (cmd: string) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/postfix'), '-c', inst.etc, cmd], {
      uid: user.uid,
      gid: user.gid,
      encoding: 'utf8',
      timeout: 20_000,
    });
  assert.equal(postfix('start').status, 0, 'mail_owner is not checked for an ordinary user');
  adopt(inst, Number(readFileSync(join(inst.queue, 'pid/master.pid'), 'utf8')));
  await waitLog(inst, /daemon started/);
  const c = client(join(inst.queue, 'public/echo'));
  await c.waitLines(1);
  c.close();
  // spawnSync below blocks this process: the connection must be closed first or stop waits for it.
  await c.closed;
  await waitLog(inst, new RegExp(`echo ready as echo uid ${user.uid}\n`));
  assert.equal(postfix('status').status, 0);
  const other = getpwnam('prtest1');
  if (other) {
    const refused = spawnSync(process.execPath, [join(ROOT, 'bin/postfix'), '-c', inst.etc, 'stop'], {
      uid: other.uid,
      gid: other.gid,
      encoding: 'utf8',
    });
    assert.deepEqual([refused.status, refused.stderr], [1, ''], 'another user cannot stop it, and no crash');
    assert.equal(postfix('status').status, 0);
  }
  const stop = postfix('stop');
  assert.equal(stop.status, 0);
  assert.doesNotMatch(readLog(inst), /waiting for the Postfix mail system|killed by signal/);
  assert.equal(postfix('status').status, 1);
  for (const pid of logPids(readLog(inst), 'postfix/(?:master|echo|postlogd)')) {
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!alive(pid), `process ${pid} is gone`);
  }
});
