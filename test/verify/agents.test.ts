/*
 * What the delivery agents do with the request flags, agent by agent
 * (stand-alone processes, fake bounce/defer/trace services):
 * DEL_REQ_FLAG.VERIFY (sendmail -bv) gives Postfix's "deliverable" and
 * "undeliverable" lines (compared with test/golden/virtual/postfix.log),
 * trace records only, and leaves no recipient to do; DEL_REQ_FLAG.RECORD
 * (sendmail -v) delivers as usual and adds a trace record of every outcome.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEL_REQ_FLAG } from '../../src/global/deliver_request.js';
import type { RpcMessage } from '../../src/global/rpc.js';
import { GOLDEN } from '../harness/index.js';
import { type AgentHarness, agentHarness, normalize } from '../virtual/fixture.js';

const GOLDEN_LOG = readFileSync(join(GOLDEN, 'virtual/postfix.log'), 'utf8').split('\n');

/** Postfix's probe line for a recipient (sendmail -bv in the recording), queue ID replaced. */
function probeLine(rcpt: string): string {
  const line = GOLDEN_LOG.find((l) => l.includes(`to=<${rcpt}>`) && /status=(un)?deliverable /u.test(l));
  assert.ok(line, rcpt);
  return normalize(line).replace(/^(\S+: )[0-9A-F]+: /u, '$1ID: ');
}

// transport_maps entries of the recording, as trivial-rewrite hands them on.
const CASES: [service: string, rcpt: string, nexthop: string][] = [
  ['error', 'e1@e.test', '5.1.1 no such person'],
  ['retry', 'r1@e.test', '4.3.2 slow down'],
  ['discard', 'd1@e.test', 'gone away'],
];

async function start(h: AgentHarness): Promise<void> {
  for (const svc of ['error', 'retry', 'discard']) await h.start(svc === 'retry' ? 'error' : svc, svc);
}

const records = (h: AgentHarness, svc: string) =>
  (h.requests.get(svc) ?? []).map((r: RpcMessage) => [
    (r.recipient as { address: string }).address,
    r.status,
    r.action,
    r.reason,
  ]);

test('VERIFY: deliverable/undeliverable as Postfix logs them, trace records only, nothing left to do', async (t) => {
  const h = await agentHarness(t);
  await start(h);
  const outcomes: unknown[] = [];
  for (const [service, rcpt, nexthop] of CASES) {
    const before = h.log().length;
    const m = await h.queue('alice@example.com', [rcpt]);
    const reply = await h.deliver(service, m, { nexthop, flags: DEL_REQ_FLAG.VERIFY });
    outcomes.push((reply.results as { outcome: string }[])[0]?.outcome);
    const lines = h.log().slice(before);
    assert.deepEqual(
      lines.map((l) => normalize(l).replace(`${m.id}: `, 'ID: ')),
      [probeLine(rcpt)],
    );
    // A probe is done whatever its verdict: the deferral too.
    assert.deepEqual(await h.todo(m), []);
  }
  assert.deepEqual(outcomes, ['bounced', 'bounced', 'sent']);
  assert.deepEqual(records(h, 'bounce'), []);
  assert.deepEqual(records(h, 'defer'), []);
  assert.deepEqual(records(h, 'trace'), [
    ['e1@e.test', '5.1.1', 'undeliverable', 'no such person'],
    ['r1@e.test', '4.3.2', 'undeliverable', 'slow down'],
    ['d1@e.test', '2.0.0', 'deliverable', 'gone away'],
  ]);
});

test('RECORD: the usual outcome and records, plus a trace record of each', async (t) => {
  const h = await agentHarness(t);
  await start(h);
  for (const [service, rcpt, nexthop] of CASES) {
    const m = await h.queue('alice@example.com', [rcpt]);
    const reply = await h.deliver(service, m, { nexthop, flags: DEL_REQ_FLAG.RECORD });
    const want = { error: 'bounced', retry: 'deferred', discard: 'sent' }[service];
    assert.equal((reply.results as { outcome: string }[])[0]?.outcome, want);
    assert.deepEqual(await h.todo(m), service === 'retry' ? [rcpt] : []);
  }
  assert.match(h.log().join('\n'), /to=<e1@e\.test>, .*status=bounced \(no such person\)/u);
  assert.deepEqual(records(h, 'bounce'), [['e1@e.test', '5.1.1', 'failed', 'no such person']]);
  assert.deepEqual(records(h, 'defer'), [['r1@e.test', '4.3.2', 'delayed', 'slow down']]);
  assert.deepEqual(records(h, 'trace'), [
    ['e1@e.test', '5.1.1', 'failed', 'no such person'],
    ['r1@e.test', '4.3.2', 'delayed', 'slow down'],
    ['d1@e.test', '2.0.0', 'delivered', 'gone away'],
  ]);
});

test('VERIFY with soft_bounce = yes: still undeliverable, with the 4.X.X code', async (t) => {
  const h = await agentHarness(t, 'soft_bounce = yes');
  await h.start('error');
  const m = await h.queue('alice@example.com', ['e1@e.test']);
  const reply = await h.deliver('error', m, { nexthop: '5.1.1 no such person', flags: DEL_REQ_FLAG.VERIFY });
  assert.equal((reply.results as { outcome: string }[])[0]?.outcome, 'bounced');
  assert.match(
    h.log().join('\n'),
    /to=<e1@e\.test>, .*dsn=4\.1\.1, status=undeliverable \(no such person\)$/u,
  );
  assert.deepEqual(records(h, 'trace'), [['e1@e.test', '4.1.1', 'undeliverable', 'no such person']]);
  assert.deepEqual(await h.todo(m), []);
});
