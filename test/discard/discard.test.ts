/*
 * discard(8) as a process: every recipient is reported delivered without
 * the message going anywhere (its log lines against Postfix's are in
 * test/error/error.test.ts, with error and retry).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentHarness } from '../virtual/fixture.js';

test('discard asks for a success notice when DSN NOTIFY=SUCCESS (trace record)', async (t) => {
  const h = await agentHarness(t);
  await h.start('discard');
  const m = await h.queue('alice@example.com', [{ address: 'n@x.test', dsnNotify: 2 }]);
  await h.deliver('discard', m, { nexthop: 'x.test' });
  const trace = h.requests.get('trace') ?? [];
  assert.equal(trace.length, 1);
  assert.equal(trace[0]?.action, 'delivered');
  assert.equal(trace[0]?.reason, 'x.test');
});

test('discard: several recipients of one request, each sent and done', async (t) => {
  const h = await agentHarness(t);
  await h.start('discard');
  const m = await h.queue('alice@example.com', ['a@x.test', 'b@y.test']);
  const reply = await h.deliver('discard', m, { nexthop: 'x.test' });
  assert.deepEqual(
    (reply.results as { outcome: string }[]).map((r) => r.outcome),
    ['sent', 'sent'],
  );
  assert.deepEqual(await h.todo(m), []);
  assert.equal(
    h.log().filter((l) => /postfix\/discard\[\d+\]: .*relay=none, .*status=sent \(x\.test\)$/u.test(l))
      .length,
    2,
  );
});
