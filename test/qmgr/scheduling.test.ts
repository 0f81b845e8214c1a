/*
 * qmgr scheduling: recipients per request, concurrency per destination and
 * per transport, the active queue limit, and what qmgr decides itself
 * (defer_transports, a transport nobody listens on, an agent that breaks
 * off, bad address syntax, double-bounce discard).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { harness } from './fixture.js';

const removed = (id: string) => new RegExp(`postfix/qmgr\\[\\d+\\]: ${id}: removed$`);

test('destination recipient and concurrency limits per transport', async (t) => {
  const h = await harness(
    t,
    [
      'default_transport = fake',
      'fake_destination_recipient_limit = 2',
      'fake_destination_concurrency_limit = 2',
    ].join('\n'),
  );
  const busy = new Set<object>();
  let maxBusy = 0;
  h.agent('fake', async (_a, req) => {
    busy.add(req);
    maxBusy = Math.max(maxBusy, busy.size);
    await sleep(100);
    busy.delete(req);
    return 'sent' as const;
  });
  await h.startQmgr();
  const rcpts = Array.from({ length: 7 }, (_, i) => `u${i}@remote.example`);
  const id = await h.submit('alice@example.com', rcpts);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  const reqs = h.requests.get('fake') ?? [];
  const sizes = reqs.map((r) => (r.recipients as unknown[]).length).sort();
  assert.deepEqual(sizes, [1, 2, 2, 2]);
  assert.ok(reqs.every((r) => r.nexthop === 'remote.example' && r.transport === 'fake'));
  const all = reqs.flatMap((r) => (r.recipients as { address: string }[]).map((x) => x.address)).sort();
  assert.deepEqual(all, rcpts);
  assert.equal(maxBusy, 2, 'at most 2 deliveries to one destination at once');
});

test('the transport process limit (master.cf maxproc) bounds all destinations together', async (t) => {
  const h = await harness(t, 'default_transport = fake', 'fake unix - - n - 1 smtp\n');
  const busy = new Set<object>();
  let maxBusy = 0;
  h.agent('fake', async (_a, req) => {
    busy.add(req);
    maxBusy = Math.max(maxBusy, busy.size);
    await sleep(60);
    busy.delete(req);
    return 'sent' as const;
  });
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['a@one.example', 'b@two.example', 'c@three.example']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.equal((h.requests.get('fake') ?? []).length, 3);
  assert.equal(maxBusy, 1);
});

test('qmgr_message_active_limit: one message in the active queue at a time', async (t) => {
  const h = await harness(t, 'qmgr_message_active_limit = 1\nqmgr_message_recipient_limit = 1');
  const inFlight = new Set<string>();
  let maxMessages = 0;
  h.agent('local', async (_a, req) => {
    inFlight.add(String(req.queue_id));
    maxMessages = Math.max(maxMessages, inFlight.size);
    await sleep(50);
    inFlight.delete(String(req.queue_id));
    return 'sent' as const;
  });
  await h.startQmgr();
  const ids = [
    await h.submit('a@example.com', ['x@example.com']),
    await h.submit('a@example.com', ['y@example.com']),
    await h.submit('a@example.com', ['z@example.com']),
  ];
  await h.trigger('A');
  for (const id of ids) await h.waitFor(`${id} removed`, () => h.log().some((l) => removed(id).test(l)));
  assert.equal(maxMessages, 1);
});

test('incoming and deferred take turns; a full active queue prefers incoming', async (t) => {
  const order: string[] = [];
  const run = async (limit: number) => {
    const h = await harness(
      t,
      `qmgr_message_active_limit = ${limit}\nqmgr_message_recipient_limit = ${limit}`,
    );
    const seen: string[] = [];
    h.agent('local', async (_a, req) => {
      seen.push(String(req.queue_id));
      await sleep(20);
      return 'sent' as const;
    });
    const past = Math.floor(Date.now() / 1000) - 60;
    const d1 = await h.submit('a@example.com', ['x@example.com'], {
      queue: 'deferred',
      arrival: { sec: past, usec: 0 },
    });
    const d2 = await h.submit('a@example.com', ['y@example.com'], {
      queue: 'deferred',
      arrival: { sec: past, usec: 0 },
    });
    const i1 = await h.submit('a@example.com', ['z@example.com']);
    const i2 = await h.submit('a@example.com', ['w@example.com']);
    await h.startQmgr();
    await h.waitFor('all four', () => seen.length === 4);
    const name = new Map([
      [d1, 'D'],
      [d2, 'D'],
      [i1, 'I'],
      [i2, 'I'],
    ]);
    order.push(seen.map((id) => name.get(id)).join(''));
  };
  await run(1);
  assert.deepEqual(order, ['IIDD']);
});

test('destination and transport rate delays space the deliveries', async (t) => {
  const h = await harness(t, 'default_transport = fake\nfake_destination_rate_delay = 1s');
  const at = new Map<string, number[]>();
  h.agent('fake', (_a, req) => {
    const list = at.get(String(req.nexthop)) ?? [];
    list.push(Date.now());
    at.set(String(req.nexthop), list);
    return 'sent' as const;
  });
  await h.startQmgr();
  await h.submit('alice@example.com', ['a@remote.example', 'x@other.example']);
  await h.submit('alice@example.com', ['b@remote.example']);
  await h.submit('alice@example.com', ['c@remote.example']);
  await h.trigger('A');
  await h.waitFor('three to remote', () => (at.get('remote.example') ?? []).length === 3, 10_000);
  const r = at.get('remote.example') ?? [];
  for (let i = 1; i < r.length; i++)
    assert.ok(
      (r[i] as number) - (r[i - 1] as number) >= 900,
      `gap ${i}: ${(r[i] as number) - (r[i - 1] as number)} ms`,
    );
  const o = at.get('other.example') ?? [];
  assert.ok((o[0] as number) - (r[0] as number) < 900, 'another destination is not held up');

  const h2 = await harness(t, 'default_transport = fake\nfake_transport_rate_delay = 1s');
  const times: number[] = [];
  h2.agent('fake', () => {
    times.push(Date.now());
    return 'sent' as const;
  });
  await h2.startQmgr();
  await h2.submit('alice@example.com', ['a@one.example', 'b@two.example']);
  await h2.trigger('A');
  await h2.waitFor('two deliveries', () => times.length === 2, 10_000);
  assert.ok((times[1] as number) - (times[0] as number) >= 900, 'one delivery per second over the transport');
});

test('defer_transports: handed to retry ("4.3.2 deferred transport"), delivered after F', async (t) => {
  const h = await harness(t, 'defer_transports = local');
  h.agent('local', () => 'sent');
  h.agent('retry', () => 'defer');
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  assert.equal((h.requests.get('local') ?? []).length, 0);
  const retry = h.requests.get('retry') ?? [];
  assert.equal(retry.length, 1);
  assert.equal(retry[0]?.nexthop, '4.3.2 deferred transport');
  assert.equal(retry[0]?.transport, 'retry');
  assert.deepEqual(
    ((retry[0]?.recipients ?? []) as { address: string }[]).map((r) => r.address),
    ['bob@example.com'],
  );
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  assert.equal((h.requests.get('local') ?? []).length, 1);
});

test('defer_transports without a retry agent: qmgr defers itself, relay=none', async (t) => {
  const h = await harness(t, 'defer_transports = local');
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const log = h.log();
  assert.ok(
    log.some((l) => l.endsWith('warning: connect to transport private/retry: No such file or directory')),
  );
  assert.match(
    log.find((l) => l.includes(`${id}: to=<bob@example.com>`)) ?? '',
    /postfix\/qmgr\[\d+\]: \w+: to=<bob@example\.com>, relay=none, delay=[\d.]+, delays=[\d.]+\/[\d.]+\/0\/0, dsn=4\.3\.0, status=deferred \(mail transport unavailable\)$/,
  );
  const appends = (h.requests.get('defer') ?? []).filter((r) => r.queue_id === id);
  assert.equal(appends.length, 1);
  assert.equal(appends[0]?.reason, 'mail transport unavailable');
});

test('a transport nobody listens on: "mail transport unavailable", retried when it is back', async (t) => {
  const h = await harness(t);
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@example.com', 'carol@example.com']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const log = h.log();
  assert.ok(
    log.some((l) =>
      /postfix\/qmgr\[\d+\]: warning: connect to transport private\/local: No such file or directory$/.test(
        l,
      ),
    ),
    log.join('\n'),
  );
  for (const who of ['bob', 'carol']) {
    const line = log.filter((l) => l.includes(`to=<${who}@example.com>`));
    assert.equal(line.length, 1, `${who}: ${line.join('\n')}`);
    assert.match(line[0] ?? '', /relay=none, .*dsn=4\.3\.0, status=deferred \(mail transport unavailable\)$/);
  }
  h.agent('local', () => 'sent');
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
});

test('a dead destination: suspended after failed cohorts, its waiting mail to retry, back after F', async (t) => {
  const h = await harness(
    t,
    [
      'default_transport = fake',
      'fake_destination_recipient_limit = 2',
      'fake_destination_concurrency_limit = 1',
      'minimal_backoff_time = 100s',
    ].join('\n'),
  );
  let down = true;
  h.agent('fake', (a) => (down && a.endsWith('@remote.example') ? 'site' : 'sent'));
  h.agent('retry', () => 'defer');
  await h.startQmgr();
  const rcpts = ['a', 'b', 'c', 'd', 'e', 'f'].map((u) => `${u}@remote.example`);
  const id = await h.submit('alice@example.com', [...rcpts, 'z@other.example']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const fake = h.requests.get('fake') ?? [];
  const remote = fake.filter((r) => r.nexthop === 'remote.example');
  assert.equal(remote.length, 1, 'one failed cohort (window 1) suspends the destination');
  assert.equal(fake.filter((r) => r.nexthop === 'other.example').length, 1, 'other destinations go on');
  const suspended =
    '4.4.1 delivery temporarily suspended: connect to remote.example[192.0.2.1]:25: Connection refused';
  const retry = h.requests.get('retry') ?? [];
  assert.ok(retry.length > 0 && retry.every((r) => r.nexthop === suspended));
  assert.deepEqual(
    retry.flatMap((r) => (r.recipients as { address: string }[]).map((x) => x.address)).sort(),
    rcpts.slice(2),
  );
  // New mail for the suspended destination is not tried either.
  const id2 = await h.submit('alice@example.com', ['g@remote.example']);
  await h.trigger('A');
  await h.waitFor('second deferred', async () => (await h.files('deferred')).includes(id2));
  assert.equal((h.requests.get('fake') ?? []).filter((r) => r.nexthop === 'remote.example').length, 1);
  down = false;
  await h.trigger('F');
  await h.waitFor(
    'removed',
    () => h.log().some((l) => removed(id).test(l)) && h.log().some((l) => removed(id2).test(l)),
  );
});

test('a destination suspended by its only delivery stays suspended for the next message', async (t) => {
  const h = await harness(
    t,
    'default_transport = fake\nfake_destination_concurrency_limit = 1\nminimal_backoff_time = 100s',
  );
  h.agent('fake', () => 'site');
  h.agent('retry', () => 'defer');
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['a@remote.example']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const id2 = await h.submit('alice@example.com', ['b@remote.example']);
  await h.trigger('A');
  await h.waitFor('second deferred', async () => (await h.files('deferred')).includes(id2));
  assert.equal((h.requests.get('fake') ?? []).length, 1);
  assert.deepEqual(
    (h.requests.get('retry') ?? []).map((r) => [r.queue_id, r.nexthop]),
    [
      [
        id2,
        '4.4.1 delivery temporarily suspended: connect to remote.example[192.0.2.1]:25: Connection refused',
      ],
    ],
  );
});

test('a content filter overrides the resolver: its transport and nexthop, recipients unchanged', async (t) => {
  const h = await harness(t);
  h.agent('filter', () => 'sent');
  h.agent('local', () => 'sent');
  await h.startQmgr();
  const a = await h.submit('alice@example.com', ['bob@example.com'], {
    attributes: { content_filter: 'filter:[127.0.0.1]:10025' },
  });
  const b = await h.submit('alice@example.com', ['carol@remote.example'], {
    attributes: { content_filter: 'filter' },
  });
  await h.trigger('A');
  for (const id of [a, b]) await h.waitFor(`${id} removed`, () => h.log().some((l) => removed(id).test(l)));
  const reqs = h.requests.get('filter') ?? [];
  const by = new Map(reqs.map((r) => [r.queue_id, r]));
  assert.equal(by.get(a)?.nexthop, '[127.0.0.1]:10025');
  assert.equal(by.get(b)?.nexthop, 'remote.example', 'no nexthop: the recipient domain');
  assert.deepEqual(
    ((by.get(a)?.recipients ?? []) as { address: string }[]).map((x) => x.address),
    ['bob@example.com'],
  );
  assert.equal((h.requests.get('local') ?? []).length, 0);
});

test('congestion: one destination filling the active queue gets the helpful warnings, once', async (t) => {
  const h = await harness(t, 'default_transport = fake\nqmgr_message_active_limit = 5');
  h.agent('fake', async () => {
    await sleep(300);
    return 'sent' as const;
  });
  await h.startQmgr();
  const ids: string[] = [];
  for (const u of ['a', 'b', 'c', 'd'])
    ids.push(await h.submit('alice@example.com', [`${u}@remote.example`]));
  await h.trigger('A');
  for (const id of ids) await h.waitFor(`${id} removed`, () => h.log().some((l) => removed(id).test(l)));
  const warns = h.log().filter((l) => / postfix\/qmgr\[\d+\]: warning: /.test(l));
  const first = warns.findIndex((l) =>
    /warning: mail for remote\.example is using up \d+ of \d+ active queue entries$/.test(l),
  );
  assert.ok(first >= 0, warns.join('\n'));
  assert.equal(warns.filter((l) => l.includes('is using up')).length, 1, 'once per qmgr_clog_warn_time');
  assert.ok(warns.at(-1)?.endsWith('warning: to turn off these warnings specify: qmgr_clog_warn_time = 0'));

  const quiet = await harness(
    t,
    'default_transport = fake\nqmgr_message_active_limit = 5\nhelpful_warnings = no',
  );
  quiet.agent('fake', async () => {
    await sleep(100);
    return 'sent' as const;
  });
  await quiet.startQmgr();
  const last = await quiet.submit('alice@example.com', ['a@remote.example']);
  await quiet.submit('alice@example.com', ['b@remote.example']);
  await quiet.submit('alice@example.com', ['c@remote.example']);
  await quiet.trigger('A');
  await quiet.waitFor('removed', () => quiet.log().some((l) => removed(last).test(l)));
  await sleep(300);
  assert.ok(!quiet.log().some((l) => l.includes('is using up')));
});

test('an agent that breaks off: only the recipients still to do go to retry', async (t) => {
  const h = await harness(t, 'default_transport = fake\nfake_destination_recipient_limit = 5');
  h.agent('retry', () => 'defer');
  let round = 0;
  h.agent('fake', (a) => {
    if (a.startsWith('one')) return 'sent';
    return round === 0 ? 'drop' : 'sent';
  });
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['one@remote.example', 'two@remote.example']);
  await h.trigger('A');
  await h.waitFor('deferred', async () => (await h.files('deferred')).includes(id));
  const log = h.log();
  assert.ok(
    log.some((l) =>
      l.endsWith(
        'warning: transport fake failure -- see a previous warning/fatal/panic logfile record for the problem description',
      ),
    ),
  );
  const retry = h.requests.get('retry') ?? [];
  assert.equal(retry.length, 1);
  assert.equal(retry[0]?.nexthop, '4.3.0 unknown mail transport error');
  assert.deepEqual(
    ((retry[0]?.recipients ?? []) as { address: string }[]).map((r) => r.address),
    ['two@remote.example'],
  );
  const r = await openQueueFile(queueFilePath(h.layout, 'deferred', id));
  assert.ok(r.ok);
  assert.deepEqual(
    r.file.recipients.map((x) => [x.address, x.done]),
    [
      ['one@remote.example', true],
      ['two@remote.example', false],
    ],
  );
  await r.file.close();
  round = 1;
  await h.trigger('F');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  const second = (h.requests.get('fake') ?? []).at(-1)?.recipients as { address: string }[];
  assert.deepEqual(
    second.map((x) => x.address),
    ['two@remote.example'],
  );
});

test('bad address syntax goes to error (5.1.3); mail to the double-bounce address is discarded', async (t) => {
  const h = await harness(t);
  h.agent('local', () => 'sent');
  h.agent('error', () => 'bounce');
  await h.startQmgr();
  const id = await h.submit('alice@example.com', ['bob@foo..bar', 'double-bounce@example.com']);
  await h.trigger('A');
  await h.waitFor('removed', () => h.log().some((l) => removed(id).test(l)));
  const log = h.log();
  const error = h.requests.get('error') ?? [];
  assert.equal(error.length, 1);
  assert.equal(error[0]?.nexthop, '5.1.3 bad address syntax');
  assert.deepEqual(
    ((error[0]?.recipients ?? []) as { address: string }[]).map((r) => r.address),
    ['bob@foo..bar'],
  );
  assert.match(
    log.find((l) => l.includes('to=<double-bounce@example.com>')) ?? '',
    /relay=none, .*dsn=2\.0\.0, status=sent \(undeliverable postmaster notification discarded\)$/,
  );
  assert.equal((h.requests.get('local') ?? []).length, 0);
  assert.equal((h.requests.get('bounce') ?? []).filter((r) => r.request === 'flush').length, 1);
});
