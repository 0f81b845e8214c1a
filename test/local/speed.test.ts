import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocal } from './fixture.js';
import { testUser } from './users.js';

test('as root, 40 concurrent Maildir deliveries to two users reuse worker processes (no process per message)', async (t) => {
  const u1 = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u1 || !u2) return;
  const lt = await startLocal(t, (q) => `mail_spool_directory = ${q.base}/spool/`);
  const started = Date.now();
  const all = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      lt.deliver({ recipients: [i % 2 ? 'prtest1@host.example' : 'prtest2@host.example'] }),
    ),
  );
  const ms = Date.now() - started;
  t.diagnostic(`40 deliveries in ${ms} ms`);
  assert.ok(all.every((d) => d.reply.results[0]?.outcome === 'sent'));
  assert.equal(readdirSync(join(lt.spool, 'prtest1', 'new')).length, 20);
  assert.equal(readdirSync(join(lt.spool, 'prtest2', 'new')).length, 20);
  assert.ok(ms < 15_000);
  // The workers stay for the next message, at most 4 per user.
  for (const u of [u1, u2]) {
    const ps = spawnSync('ps', ['-u', String(u.uid), '-o', 'ppid=,args='], { encoding: 'utf8' });
    const workers = ps.stdout
      .split('\n')
      .filter((l) => l.trim().startsWith(`${lt.pid} `) && l.includes('user_worker.js')).length;
    if (process.getuid?.() === 0) assert.ok(workers >= 1 && workers <= 4, `${workers} workers for ${u.name}`);
  }
});
