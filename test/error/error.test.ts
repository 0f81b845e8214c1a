/*
 * error(8), retry and discard(8) as processes, against the log lines
 * Postfix 3.7.11 wrote for the same transport_maps entries
 * (test/golden/virtual/postfix.log, recorded by test/golden/virtual/record.sh).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN } from '../harness/index.js';
import { agentHarness, normalize } from '../virtual/fixture.js';

const GOLDEN_LOG = readFileSync(join(GOLDEN, 'virtual/postfix.log'), 'utf8').split('\n');

/** Postfix's lines for one recipient (its warning first, if any), queue ID replaced. */
function golden(rcpt: string): string[] {
  const i = GOLDEN_LOG.findIndex((l) => l.includes(`to=<${rcpt}>`));
  assert.ok(i >= 0, rcpt);
  const line = GOLDEN_LOG[i] as string;
  const prev = GOLDEN_LOG[i - 1] ?? '';
  const out = [normalize(line).replace(/^(\S+: )[0-9A-F]+: /u, '$1ID: ')];
  if (prev.includes('ignoring dsn code')) out.unshift(normalize(prev));
  return out;
}

function ours(lines: string[], id: string): string[] {
  return lines.map((l) => normalize(l).replace(`${id}: `, 'ID: '));
}

// transport_maps entries of the recording, as trivial-rewrite hands them on.
const CASES: [service: string, daemon: string, rcpt: string, nexthop: string][] = [
  ['error', 'error', 'e1@e.test', '5.1.1 no such person'],
  ['error', 'error', 'e2@e.test', 'Address is undeliverable'],
  ['error', 'error', 'e3@e.test', '4.4.1 try later'],
  ['error', 'error', 'e4@e.test', 'no status here'],
  ['retry', 'error', 'r1@e.test', '4.3.2 slow down'],
  ['retry', 'error', 'r2@e.test', 'Address is undeliverable'],
  ['retry', 'error', 'r3@e.test', '5.1.1 permanent'],
  ['discard', 'discard', 'd1@e.test', 'gone away'],
  ['discard', 'discard', 'd2@e.test', 'e.test'],
  ['discard', 'discard', 'd3@e.test', '2.1.5 ok then'],
  ['discard', 'discard', 'd4@e.test', '5.1.1 odd'],
];

test('error, retry and discard log, record and answer as Postfix does', async (t) => {
  const h = await agentHarness(t);
  for (const svc of ['error', 'retry', 'discard']) {
    await h.start(svc === 'retry' ? 'error' : svc, svc);
  }
  for (const [service, , rcpt, nexthop] of CASES) {
    await t.test(`${service}:${nexthop} for ${rcpt}`, async () => {
      const before = h.log().length;
      const m = await h.queue('alice@example.com', [rcpt]);
      const reply = await h.deliver(service, m, { nexthop });
      const expectOutcome = service === 'error' ? 'bounced' : service === 'retry' ? 'deferred' : 'sent';
      assert.deepEqual(reply.results, [{ offset: m.recipients[0]?.offset, outcome: expectOutcome }]);
      assert.equal(reply.status, 0);
      const lines = h.log().slice(before);
      assert.deepEqual(ours(lines, m.id), golden(rcpt));
      // Bounced and discarded recipients are done; a retry leaves it to do.
      assert.deepEqual(await h.todo(m), service === 'retry' ? [rcpt] : []);
    });
  }
  // The per-recipient logs got what the log lines say.
  const bounces = h.requests.get('bounce') ?? [];
  assert.deepEqual(
    bounces.map((r) => [(r.recipient as { address: string }).address, r.status, r.action, r.reason, r.relay]),
    [
      ['e1@e.test', '5.1.1', 'failed', 'no such person', 'none'],
      ['e2@e.test', '5.0.0', 'failed', 'Address is undeliverable', 'none'],
      ['e3@e.test', '5.0.0', 'failed', 'try later', 'none'],
      ['e4@e.test', '5.0.0', 'failed', 'no status here', 'none'],
    ],
  );
  const defers = h.requests.get('defer') ?? [];
  assert.deepEqual(
    defers.map((r) => [(r.recipient as { address: string }).address, r.status, r.action, r.reason]),
    [
      ['r1@e.test', '4.3.2', 'delayed', 'slow down'],
      ['r2@e.test', '4.0.0', 'delayed', 'Address is undeliverable'],
      ['r3@e.test', '4.0.0', 'delayed', 'permanent'],
    ],
  );
});

test('one request for several recipients: each bounced and logged, in order', async (t) => {
  const h = await agentHarness(t);
  await h.start('error');
  const m = await h.queue('', ['a@x.test', 'b@x.test', 'c@x.test']);
  const reply = await h.deliver('error', m, { nexthop: '5.7.1 go away' });
  assert.deepEqual(
    (reply.results as { outcome: string }[]).map((r) => r.outcome),
    ['bounced', 'bounced', 'bounced'],
  );
  assert.deepEqual(
    ours(h.log(), m.id),
    ['a', 'b', 'c'].map(
      (u) =>
        `postfix/error: ID: to=<${u}@x.test>, relay=none, delay=D, delays=D, dsn=5.7.1, status=bounced (go away)`,
    ),
  );
  assert.deepEqual(await h.todo(m), []);
});

test('soft_bounce turns error bounces into deferrals', async (t) => {
  const h = await agentHarness(t, 'soft_bounce = yes');
  await h.start('error');
  const m = await h.queue('alice@example.com', ['s@x.test']);
  const reply = await h.deliver('error', m, { nexthop: '5.1.1 no such person' });
  assert.deepEqual((reply.results as { outcome: string }[])[0]?.outcome, 'deferred');
  assert.deepEqual(await h.todo(m), ['s@x.test']);
  assert.match(h.log().join('\n'), /dsn=4\.1\.1, status=SOFTBOUNCE \(no such person\)/u);
});
