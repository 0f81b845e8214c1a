/*
 * qmgr and the life of a queue file: crash recovery from active/, torn
 * and damaged files to corrupt/, hold/ left alone until released,
 * postsuper -d during a delivery, stop (SIGTERM), expiry (maximal_queue_lifetime, bounce_queue_lifetime) and the delay
 * warning (delay_warning_time, W cleared once sent).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync, truncateSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { ours } from '../harness/index.js';
import { harness } from './fixture.js';

const removed = (id: string) => new RegExp(`postfix/qmgr\\[\\d+\\]: ${id}: removed$`);

test('start-up: a file left in active/ goes back to incoming and is delivered', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  const id = await h.submit('alice@example.com', ['bob@example.com'], { queue: 'active' });
  assert.deepEqual(await h.files('active'), [id]);
  await h.startQmgr();
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.equal((h.requests.get('local') ?? []).length, 1);
});

test('start-up after a crash mid-delivery: recipients already done are not delivered again', async (t) => {
  const h = await harness(t, 'default_transport = fake\nfake_destination_recipient_limit = 5');
  const seen: string[] = [];
  h.agent('fake', (a) => {
    seen.push(a);
    return 'sent';
  });
  const id = await h.submit('alice@example.com', ['one@remote.example', 'two@remote.example'], {
    queue: 'active',
  });
  const r = await openQueueFile(queueFilePath(h.layout, 'active', id), { write: true });
  assert.ok(r.ok);
  await r.file.markDone(r.file.recipients[0] as never);
  await r.file.close();
  await h.startQmgr();
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.deepEqual(seen, ['two@remote.example']);
});

test('SIGTERM: qmgr exits 0 without waiting for deliveries; the next start delivers', async (t) => {
  const h = await harness(t);
  let mode: 'hang' | 'sent' = 'hang';
  h.agent('local', () => mode);
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('request', () => (h.requests.get('local') ?? []).length === 1);
  assert.equal(await h.stopQmgr('SIGTERM'), 0);
  assert.deepEqual(await h.files('active'), [id]);
  assert.ok(!h.log().some((l) => l.includes('to=<bob@example.com>')), 'nothing deferred on the way out');
  mode = 'sent';
  await h.startQmgr();
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
});

test('postsuper -d of a message in delivery: qmgr warns, forgets it, carries on', async (t) => {
  const h = await harness(t);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  h.agent('local', async (a) => {
    if (a.startsWith('bob')) await gate;
    return 'sent' as const;
  });
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('request', () => (h.requests.get('local') ?? []).length === 1);
  const r = ours('postsuper', ['-c', h.config, '-d', id]);
  assert.equal(r.status, 0, r.stderr);
  release();
  await h.waitFor('warning', () =>
    h
      .log()
      .some((l) =>
        l.endsWith(
          `warning: qmgr_active_defer: rename ${id} from active to deferred: No such file or directory`,
        ),
      ),
  );
  for (const q of ['incoming', 'active', 'deferred', 'hold', 'corrupt'])
    assert.deepEqual(await h.files(q), [], q);
  const next = await h.submit('alice@example.com', ['carol@example.com']);
  await h.trigger('A');
  await h.waitFor('next removed', () => h.log().some((l) => removed(next).test(l)));
});

test('a torn file goes to corrupt/ with a warning; the next message is delivered', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  const bad = await h.submit('alice@example.com', ['bob@example.com']);
  const path = queueFilePath(h.layout, 'incoming', bad);
  truncateSync(path, statSync(path).size - 3);
  const good = await h.submit('alice@example.com', ['carol@example.com']);
  await h.startQmgr();
  await h.waitFor('removed', () => h.log().some((l) => removed(good).test(l)));
  await h.waitFor('corrupt', async () => (await h.files('corrupt')).includes(bad));
  const log = h.log();
  assert.ok(
    log.some((l) =>
      new RegExp(
        `postfix/qmgr\\[\\d+\\]: warning: saving corrupt file "${bad}" from queue "active" to queue "corrupt"$`,
      ).test(l),
    ),
    log.join('\n'),
  );
  assert.ok(log.some((l) => l.includes(`warning: ${bad}: message rejected: file is`)));
  assert.ok(!log.some((l) => l.includes(`${bad}: from=<`)), 'no queue active line for a torn file');
});

test('hold/ is never scanned; released to deferred (postsuper -H), the next scan delivers it', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  const id = await h.submit('alice@example.com', ['bob@example.com'], { queue: 'hold' });
  await h.startQmgr();
  await h.trigger('W');
  await h.trigger('F');
  await sleep(300);
  assert.deepEqual(await h.files('hold'), [id]);
  assert.equal((h.requests.get('local') ?? []).length, 0);
  const r = ours('postsuper', ['-c', h.config, '-H', id]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await h.files('deferred'), [id]);
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
});

test('maximal_queue_lifetime: expired, pending recipients returned with their defer reason', async (t) => {
  const h = await harness(t, 'maximal_queue_lifetime = 0');
  h.agent('local', (a) => (a.startsWith('bob') ? 'sent' : 'defer'));
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com', 'carol@example.com']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  const log = h.log();
  const expired = log.findIndex((l) =>
    new RegExp(
      `postfix/qmgr\\[\\d+\\]: ${id}: from=<alice@example\\.com>, status=expired, returned to sender$`,
    ).test(l),
  );
  assert.ok(expired >= 0, log.join('\n'));
  assert.ok(expired < log.findIndex((l) => removed(id).test(l)));
  const bounce = h.requests.get('bounce') ?? [];
  const appends = bounce.filter((r) => r.request === 'append');
  assert.equal(appends.length, 1);
  assert.equal((appends[0]?.recipient as { address?: string } | undefined)?.address, 'carol@example.com');
  assert.equal(appends[0]?.action, 'failed');
  assert.equal(appends[0]?.status, '4.2.2');
  assert.equal(appends[0]?.reason, 'mailbox full');
  assert.equal(bounce.filter((r) => r.request === 'flush').length, 1);
  assert.ok(!existsSync(queueFilePath(h.layout, 'defer', id)), 'defer log gone with the message');
});

test('postsuper -e: returned at the next attempt, with the earlier defer reasons, without delivery', async (t) => {
  const h = await harness(t, 'minimal_backoff_time = 100s');
  let tries = 0;
  h.agent('local', () => {
    tries++;
    return 'defer' as const;
  });
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const r = ours('postsuper', ['-c', h.config, '-e', id]);
  assert.equal(r.status, 0, r.stderr);
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.equal(tries, 1, 'no second delivery attempt');
  assert.ok(
    h
      .log()
      .some((l) => l.endsWith(`${id}: from=<alice@example.com>, status=force-expired, returned to sender`)),
  );
  const appends = (h.requests.get('bounce') ?? []).filter((x) => x.request === 'append');
  assert.deepEqual(
    appends.map((x) => [x.status, x.reason, x.action]),
    [['4.2.2', 'mailbox full', 'failed']],
  );
});

test('postsuper -e of a message never tried: retry records "message is administratively expired"', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  h.agent('retry', () => 'defer');
  const id = await h.submit('alice@example.com', ['bob@example.com'], { queue: 'hold' });
  assert.equal(ours('postsuper', ['-c', h.config, '-e', id]).status, 0);
  assert.equal(ours('postsuper', ['-c', h.config, '-H', id]).status, 0);
  await h.startQmgr();
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.equal((h.requests.get('local') ?? []).length, 0);
  assert.equal((h.requests.get('retry') ?? [])[0]?.nexthop, '4.7.0 message is administratively expired');
  const appends = (h.requests.get('bounce') ?? []).filter((x) => x.request === 'append');
  assert.deepEqual(
    appends.map((x) => [x.status, x.reason]),
    [['4.7.0', 'message is administratively expired']],
  );
});

test('bounce_queue_lifetime applies to the null sender only', async (t) => {
  const h = await harness(t, 'maximal_queue_lifetime = 1d\nbounce_queue_lifetime = 0');
  h.agent('local', () => 'defer');
  await h.startQmgr();
  const notice = await h.submit('', ['bob@example.com']);
  const normal = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('notice removed', () => h.log().some((l) => removed(notice).test(l)));
  await h.waitFor('normal deferred', async () => (await h.files('deferred')).includes(normal));
  const log = h.log();
  assert.ok(log.some((l) => l.endsWith(`${notice}: from=<>, status=expired, returned to sender`)));
  assert.ok(!log.some((l) => l.includes(`${normal}: from=<alice@example.com>, status=expired`)));
});

test('delay warning: sent when W (set by cleanup) has come, then W cleared; not before', async (t) => {
  const h = await harness(t, 'minimal_backoff_time = 100s');
  h.agent('local', () => 'defer');
  await h.startQmgr();
  const now = Math.floor(Date.now() / 1000);
  const later = await h.submit('alice@example.com', ['bob@example.com'], { warnTime: now + 3600 });
  const due = await h.submit('alice@example.com', ['bob@example.com'], { warnTime: now - 5 });
  const none = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  for (const id of [later, due, none])
    await h.waitFor(`${id} deferred`, async () => (await h.files('deferred')).includes(id));
  const warnTime = async (id: string) => {
    const r = await openQueueFile(queueFilePath(h.layout, 'deferred', id));
    assert.ok(r.ok);
    const w = r.file.warnTime;
    await r.file.close();
    return w;
  };
  assert.equal(await warnTime(later), now + 3600, 'not due: left alone');
  assert.equal(await warnTime(due), 0, 'warning sent and cleared');
  assert.equal(await warnTime(none), 0);
  const warns = (h.requests.get('defer') ?? []).filter((r) => r.request === 'warn');
  assert.deepEqual(
    warns.map((r) => r.queue_id),
    [due],
  );
  assert.equal(warns[0]?.queue_name, 'active');
  assert.equal(warns[0]?.sender, 'alice@example.com');
});
