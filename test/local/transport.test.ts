import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RpcMessage } from '../../src/global/rpc.js';
import { serveRpc } from '../../src/global/rpc.js';
import { aliases, type LocalTest, startLocal } from './fixture.js';
import { testUser } from './users.js';

/** A delivery agent on private/<name> that records requests and answers "sent". */
function fakeAgent(t: import('node:test').TestContext, lt: LocalTest, name: string): RpcMessage[] {
  const got: RpcMessage[] = [];
  const s = createServer((sock) =>
    serveRpc(sock, (m) => {
      got.push(m);
      const rs = m.recipients as { offset: number }[];
      return { status: 0, results: rs.map((r) => ({ offset: r.offset, outcome: 'sent' })) };
    }),
  );
  s.listen(join(lt.q.queueDir, 'private', name));
  t.after(() => s.close());
  return got;
}

test('mailbox_transport hands every local recipient to that transport; it logs and marks done itself', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'mailbox_transport = lmtpish:[127.0.0.1]');
  const got = fakeAgent(t, lt, 'lmtpish');
  const { id, reply } = await lt.deliver({ recipients: [{ address: 'prtest1@host.example', orig: 'p' }] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.equal(got.length, 1);
  assert.equal(got[0]?.transport, 'lmtpish');
  assert.equal(got[0]?.nexthop, '[127.0.0.1]');
  assert.equal(got[0]?.queue_id, id);
  assert.deepEqual(
    ((got[0]?.recipients ?? []) as { address: string }[]).map((r) => r.address),
    ['prtest1@host.example'],
  );
  // local itself logs nothing for it: the other agent does.
  assert.deepEqual(lt.statusLines(id), []);
});

test('fallback_transport(_maps) takes unknown users; an unreachable transport defers', async (t) => {
  const lt = await startLocal(
    t,
    'fallback_transport_maps = inline:{ ghost=other }\nfallback_transport = missing',
  );
  const got = fakeAgent(t, lt, 'other');
  const a = await lt.deliver({ recipients: ['ghost@host.example'] });
  assert.deepEqual(
    a.reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.equal(got[0]?.nexthop, 'host.example');
  const b = await lt.deliver({ recipients: ['nobody-here@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<nobody-here@host.example>, relay=local, dsn=4.3.0, status=deferred (mail transport unavailable)',
  ]);
});

test('luser_relay receives mail for unknown users ($user expanded)', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'luser_relay = prtest1+$user\nrecipient_delimiter = +');
  const { id } = await lt.deliver({ recipients: ['ghost@host.example'] });
  assert.deepEqual(lt.statusLines(id), [
    'to=<prtest1+ghost@host.example>, orig_to=<ghost@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
  ]);
});

test('.forward with $extension in forward_path, \\user and the duplicate filter', async (t) => {
  const u1 = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u1 || !u2) return;
  const lt = await startLocal(t, (q) => {
    const home = join(q.base, 'home2');
    mkdirSync(home);
    chownSync(home, u2.uid, u2.gid);
    writeFileSync(join(home, '.forward+box'), `\\prtest2, ${q.base}/files/fwd.mbox\n`);
    chownSync(join(home, '.forward+box'), u2.uid, u2.gid);
    writeFileSync(join(home, '.forward-other'), `${q.base}/files/other.mbox\n`);
    chownSync(join(home, '.forward-other'), u2.uid, u2.gid);
    const maps = aliases(q, 'a: prtest1\nb: prtest1\n');
    return [
      `alias_maps = ${maps}`,
      'recipient_delimiter = +-',
      `forward_path = ${home}/.forward\${recipient_delimiter}\${extension}, ${home}/.forward`,
      `mail_spool_directory = ${q.base}/spool/`,
    ].join('\n');
  });
  const a = await lt.deliver({ recipients: ['prtest2+box@host.example'] });
  assert.deepEqual(lt.statusLines(a.id), [
    'to=<prtest2@host.example>, orig_to=<prtest2+box@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to maildir)',
    `to=<prtest2+box@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to file: ${lt.q.base}/files/fwd.mbox)`,
  ]);
  if (process.getuid?.() === 0) assert.equal(statSync(join(lt.q.base, 'files', 'fwd.mbox')).uid, u2.uid);
  // ${recipient_delimiter} is the delimiter the address used.
  const c = await lt.deliver({ recipients: ['prtest2-other@host.example'] });
  assert.deepEqual(lt.statusLines(c.id), [
    `to=<prtest2-other@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to file: ${lt.q.base}/files/other.mbox)`,
  ]);
  // Two aliases to one user in one request: one mailbox delivery, both recipients done.
  const b = await lt.deliver({ recipients: ['a@host.example', 'b@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<prtest1@host.example>, orig_to=<a@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to maildir)',
    'to=<prtest1@host.example>, orig_to=<b@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to maildir)',
  ]);
  assert.equal(readdirSync(join(lt.spool, 'prtest1', 'new')).length, 1);
  assert.deepEqual(await lt.done(b.id), [true, true]);
});

test('home_mailbox: mbox in the home directory, owned by the user', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const name = `.postroom-test-${process.pid}-${Date.now()}`;
  t.after(() => rmSync(join(u.home, name), { force: true }));
  const lt = await startLocal(t, `home_mailbox = ${name}`);
  const { id } = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(lt.statusLines(id), [
    'to=<prtest1@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
  ]);
  assert.match(readFileSync(join(u.home, name), 'utf8'), /^From sender@example\.com {2}/u);
  if (process.getuid?.() === 0) assert.equal(statSync(join(u.home, name)).uid, u.uid);
});

test('propagate_unmatched_extensions = alias: joe+foo via "joe: prtest1" goes to prtest1+foo; not by default', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const setup = (extra: string) => (q: import('../harness/daemon.js').TestQueue) =>
    `alias_maps = ${aliases(q, 'joe: prtest1\nloop1: loop2\nloop2: loop1\n')}\nrecipient_delimiter = +\n${extra}`;
  const lt = await startLocal(t, setup('propagate_unmatched_extensions = canonical, alias'));
  const a = await lt.deliver({ recipients: ['joe+foo@host.example'] });
  assert.deepEqual(lt.statusLines(a.id), [
    'to=<prtest1+foo@host.example>, orig_to=<joe+foo@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
  ]);
  const b = await lt.deliver({ recipients: ['loop1+x@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<loop2+x@host.example>, orig_to=<loop1+x@host.example>, relay=local, dsn=5.4.6, status=bounced (alias database loop for loop2)',
  ]);
  const lt2 = await startLocal(t, setup(''));
  const c = await lt2.deliver({ recipients: ['joe+foo@host.example'] });
  assert.deepEqual(lt2.statusLines(c.id), [
    'to=<prtest1@host.example>, orig_to=<joe+foo@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
  ]);
});

test('alias members are resolved as qmgr would: local ones delivered here, others (remote, other transport) re-submitted', async (t) => {
  const u = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u || !u2) return;
  const lt = await startLocal(
    t,
    (q) =>
      `alias_maps = ${aliases(q, 'r: someone@remote.example, prtest1, prtest2\n')}\n` +
      'transport_maps = inline:{ prtest2@host.example=lmtp:[127.0.0.1] }',
  );
  const { id } = await lt.deliver({ recipients: [{ address: 'r@host.example', orig: 'r' }] });
  assert.deepEqual(
    lt.statusLines(id).map((l) => l.replace(/forwarded as \w+/u, 'forwarded as ID')),
    [
      'to=<prtest1@host.example>, orig_to=<r>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
      'to=<r@host.example>, orig_to=<r>, relay=local, dsn=2.0.0, status=sent (forwarded as ID)',
    ],
  );
  assert.deepEqual(lt.resubmitted[0]?.recipients, [
    { address: 'someone@remote.example', orig: 'r' },
    { address: 'prtest2@host.example', orig: 'r' },
  ]);
});

test('mailbox_transport naming local itself is ignored with a warning (no hand-off loop)', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'mailbox_transport = local:whatever');
  const { id } = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(lt.statusLines(id), [
    'to=<prtest1@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to mailbox)',
  ]);
  assert.match(lt.maillog(), /warning: local: transport names this delivery agent itself; ignored/u);
});
