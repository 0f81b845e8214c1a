/*
 * virtual(8) as root reuses the mailbox owner's worker process (local's
 * pool, src/local/user_ops.ts) instead of starting a process per delivery,
 * and the files are still made by the owner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentHarness } from './fixture.js';

const NOBODY = 65534;

/** Worker processes of the agent `ppid` running as `uid`. */
function workers(ppid: number, uid: number): number[] {
  const ps = spawnSync('ps', ['-u', String(uid), '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/u))
    .filter((f) => f[1] === String(ppid) && f.some((a) => a.endsWith('user_worker.js')))
    .map((f) => Number(f[0]));
}

test('as root, deliveries to one uid/gid reuse the same worker process', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root');
    return;
  }
  const h0 = await agentHarness(t);
  chmodSync(h0.base, 0o755);
  const vmail = join(h0.base, 'vmail');
  mkdirSync(vmail);
  chownSync(vmail, NOBODY, NOBODY);
  const h = await agentHarness(
    t,
    `virtual_mailbox_base = ${vmail}
virtual_mailbox_domains = v.test
virtual_mailbox_maps = inline:{ a@v.test=a/, b@v.test=b/, m@v.test=mbox }
virtual_uid_maps = static:${NOBODY}
virtual_gid_maps = static:${NOBODY}
`,
  );
  const agent = await h.start('virtual');
  const pid = agent.pid ?? 0;

  const first = await h.deliver('virtual', await h.queue('s@example.com', ['a@v.test']));
  assert.equal(first.status, 0);
  const once = workers(pid, NOBODY);
  assert.equal(once.length, 1, `workers after one delivery: ${once.join(' ')}`);
  // A second delivery, to another mailbox of the same owner, and an mbox one.
  await h.deliver('virtual', await h.queue('s@example.com', ['b@v.test', 'm@v.test']));
  assert.deepEqual(workers(pid, NOBODY), once, 'the same worker served the later deliveries');

  // A burst: at most 4 workers for the owner, every message delivered.
  const burst = await Promise.all(
    Array.from({ length: 16 }, async (_, i) =>
      h.deliver('virtual', await h.queue('s@example.com', [i % 2 ? 'a@v.test' : 'b@v.test'])),
    ),
  );
  assert.ok(burst.every((r) => r.status === 0));
  const after = workers(pid, NOBODY);
  assert.ok(after.length >= 1 && after.length <= 4, `${after.length} workers`);
  assert.equal(readdirSync(join(vmail, 'a', 'new')).length, 9);
  assert.equal(readdirSync(join(vmail, 'b', 'new')).length, 9);
  for (const p of ['a', 'a/new', 'b/new', 'mbox']) assert.equal(statSync(join(vmail, p)).uid, NOBODY, p);
  const sent = h.log().filter((l) => l.includes('status=sent'));
  assert.equal(sent.length, 19, sent.join('\n'));
});
