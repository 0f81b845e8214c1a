/*
 * trivial-rewrite as a service on its socket (master's `rewrite`): each
 * connection is a session in Postfix's attribute protocol, answering
 * exactly what the stand-alone (-S) form answers on stdin/stdout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeAttrs } from '../../src/trivial-rewrite/server.js';
import { startDaemon, testQueue } from '../harness/daemon.js';
import { ROOT } from '../harness/index.js';

const REQUESTS = Buffer.concat([
  encodeAttrs([
    ['request', 'rewrite'],
    ['rule', 'local'],
    ['address', 'joe'],
  ]),
  encodeAttrs([
    ['request', 'resolve'],
    ['sender', ''],
    ['address', 'joe@host.example'],
  ]),
  encodeAttrs([
    ['request', 'resolve'],
    ['sender', ''],
    ['address', 'someone@elsewhere.example'],
  ]),
]);

test('the rewrite service answers on private/rewrite as -S answers on stdin', async (t) => {
  const q = await testQueue(t, 'mydestination = $myhostname\nrelayhost = [relay.example]\n');
  await startDaemon(t, q, 'src/trivial-rewrite/main.js', ['-n', 'rewrite', '-t', 'unix'], 'private/rewrite');
  const got = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = connect(join(q.queueDir, 'private/rewrite'), () => s.end(REQUESTS));
    s.on('data', (b) => parts.push(b));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
  const standAlone = spawnSync(process.execPath, [join(ROOT, 'dist/src/trivial-rewrite/main.js'), '-S'], {
    input: REQUESTS,
    env: { ...process.env, MAIL_CONFIG: q.configDir },
  });
  assert.equal(standAlone.status, 0, standAlone.stderr.toString());
  assert.ok(got.includes(Buffer.from('address\0joe@host.example\0')), got.toString('latin1'));
  assert.ok(got.includes(Buffer.from('nexthop\0[relay.example]\0')), got.toString('latin1'));
  assert.deepEqual(got, standAlone.stdout);
});
