/*
 * qmgr end to end, as a process: incoming -> active -> removed, deferred
 * (time stamp, defer log, retry on F), bounced (bounce flush), requests as
 * docs/daemons.md says.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { harness } from './fixture.js';

const LINE = (id: string, rest: string) => new RegExp(`postfix/qmgr\\[\\d+\\]: ${id}: ${rest}`);

test('a delivered message: queue active line, one request to local, removed', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)));
  const log = h.log();
  assert.ok(
    log.some((l) => LINE(id, 'from=<alice@example\\.com>, size=21, nrcpt=1 \\(queue active\\)$').test(l)),
    log.join('\n'),
  );
  const reqs = h.requests.get('local') ?? [];
  assert.equal(reqs.length, 1);
  const r = reqs[0] as Record<string, unknown>;
  assert.equal(r.queue_name, 'active');
  assert.equal(r.queue_id, id);
  assert.equal(r.transport, 'local');
  assert.equal(r.nexthop, 'mx.example.com'); // local_transport = local:$myhostname
  assert.equal(r.sender, 'alice@example.com');
  assert.equal(r.size, 21);
  const rc = r.recipients as { address: string; offset: number }[];
  assert.equal(rc.length, 1);
  assert.equal(rc[0]?.address, 'bob@example.com');
  const stats = r.stats as { incoming: number; active: number };
  assert.ok(stats.active >= stats.incoming && stats.incoming > 0);
  assert.deepEqual(await h.files('active'), []);
  assert.deepEqual(await h.files('incoming'), []);
});

test('a deferred recipient: deferred/ with the next attempt as mtime, retried after F', async (t) => {
  const h = await harness(t, 'minimal_backoff_time = 100s\nmaximal_backoff_time = 200s');
  let mode: 'defer' | 'sent' = 'defer';
  h.agent('local', () => mode);
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  const before = Math.floor(Date.now() / 1000);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const path = queueFilePath(h.layout, 'deferred', id);
  assert.ok(path.includes(`/deferred/${id[0]}/`), path);
  const mtime = Math.floor(statSync(path).mtimeMs / 1000);
  assert.ok(mtime >= before + 100 && mtime <= before + 105, `mtime ${mtime} vs ${before}`);
  assert.ok(existsSync(queueFilePath(h.layout, 'defer', id)), 'defer log kept for mailq');
  // The periodic deferred scan must leave a file whose time has not come.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((h.requests.get('local') ?? []).length, 1);
  mode = 'sent';
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)));
  assert.equal((h.requests.get('local') ?? []).length, 2);
  assert.ok(!existsSync(queueFilePath(h.layout, 'defer', id)), 'old defer log removed on activation');
  assert.equal(h.log().filter((l) => LINE(id, 'from=.*\\(queue active\\)$').test(l)).length, 2);
});

test('a deferred message comes back by itself after the backoff time (queue_run_delay scan)', async (t) => {
  const h = await harness(t);
  let n = 0;
  h.agent('local', () => (++n === 1 ? 'defer' : 'sent'));
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)), 15_000);
  assert.equal(n, 2);
});

test('bounced and sent recipients: bounce flush for the notice, then removed', async (t) => {
  const h = await harness(t);
  h.agent('local', (a) => (a.startsWith('gone') ? 'bounce' : 'sent'));
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com', 'gone@example.com']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)));
  const flush = (h.requests.get('bounce') ?? []).filter((r) => r.request === 'flush');
  assert.equal(flush.length, 1);
  assert.equal(flush[0]?.queue_id, id);
  assert.equal(flush[0]?.queue_name, 'active');
  assert.equal(flush[0]?.sender, 'alice@example.com');
  // local takes one recipient per delivery.
  assert.equal((h.requests.get('local') ?? []).length, 2);
});

test('a failing bounce flush keeps the message; the retry flushes and removes it', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'bounce');
  await h.closeAgent('bounce');
  let fail = true;
  const { createServer } = await import('node:net');
  const { serveRpc } = await import('../../src/global/rpc.js');
  const { rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const flushes: string[] = [];
  const srv = createServer((s) =>
    serveRpc(s, (req) => {
      if (req.request !== 'flush') return { status: 0 };
      flushes.push(String(req.queue_id));
      if (fail) return { status: 1, reason: 'cleanup unavailable' };
      rmSync(queueFilePath(h.layout, 'bounce', String(req.queue_id)), { force: true });
      return { status: 0 };
    }),
  );
  srv.listen(join(h.queueDir, 'private', 'bounce'));
  t.after(() => srv.close());
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['gone@example.com']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  assert.deepEqual(flushes, [id]);
  fail = false;
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)));
  assert.deepEqual(flushes, [id, id]);
  assert.equal((h.requests.get('local') ?? []).length, 1, 'the bounced recipient is not tried again');
});

test('request details: DSN fields, attributes and trace_flags pass to the agent', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  await h.startQmgr();
  const id = await h.submit(
    'alice@example.com',
    [
      {
        address: 'bob@example.com',
        orig: 'Bob@Example.COM',
        dsnOrcpt: 'rfc822;bob@example.com',
        dsnNotify: 6,
      },
    ],
    { attributes: { trace_flags: '2', client_name: 'client.example', rewrite_context: 'remote' } },
  );
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => LINE(id, 'removed$').test(l)));
  const r = (h.requests.get('local') ?? [])[0] as Record<string, unknown>;
  assert.equal(r.flags, 2);
  assert.deepEqual(r.attributes, {
    trace_flags: '2',
    client_name: 'client.example',
    rewrite_context: 'remote',
  });
  const rc = (r.recipients as Record<string, unknown>[])[0] ?? {};
  assert.equal(rc.orig, 'Bob@Example.COM');
  assert.equal(rc.dsn_orcpt, 'rfc822;bob@example.com');
  assert.equal(rc.dsn_notify, 6);
  assert.equal(typeof rc.offset, 'number');
});
