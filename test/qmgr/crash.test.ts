/*
 * qmgr never loses a recipient: many messages with random outcomes
 * (deferred on some attempts), qmgr killed with SIGKILL twice in the
 * middle and started again; at the end every recipient has had a final
 * outcome (sent or bounced), no queue file is left behind and nothing
 * went to corrupt/. A recipient delivered twice (the agent finished just
 * as qmgr died) is allowed and counted, never a recipient delivered zero
 * times. Outcomes come from a seeded generator (POSTROOM_QMGR_SEED); the
 * interleaving with the kills still varies from run to run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { harness } from './fixture.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('SIGKILL during a run: every recipient gets a final outcome, none is lost', async (t) => {
  const h = await harness(
    t,
    'default_transport = fake\nfake_destination_recipient_limit = 2\nminimal_backoff_time = 1s\nmaximal_backoff_time = 1s',
  );
  const rnd = lcg(Number(process.env.POSTROOM_QMGR_SEED ?? 4242));
  const final = new Map<string, number>();
  // While `held` is set the agent keeps its requests: a kill then surely finds deliveries in flight.
  let held: Promise<void> | null = null;
  let heldCount = 0;
  h.agent('fake', async (a, req) => {
    if (held !== null) {
      heldCount++;
      await held;
    }
    await sleep(Math.floor(rnd() * 20));
    const r = rnd();
    const d = r < 0.25 ? 'defer' : r < 0.35 ? 'bounce' : 'sent';
    if (d !== 'defer') {
      const key = `${String(req.queue_id)} ${a}`;
      final.set(key, (final.get(key) ?? 0) + 1);
    }
    return d;
  });
  const want: string[] = [];
  const inFlightAtKill: number[] = [];
  await h.startQmgr();
  for (let i = 0; i < 40; i++) {
    const rcpts = [`a${i}@one.example`, `b${i}@one.example`, `c${i}@two.example`];
    const id = await h.submit('alice@example.com', rcpts);
    for (const r of rcpts) want.push(`${id} ${r}`);
    await h.trigger('A');
    if (i === 15 || i === 30) {
      // Kill while deliveries are in flight; they finish after qmgr died.
      let release: () => void = () => {};
      held = new Promise<void>((r) => {
        release = r;
      });
      heldCount = 0;
      await h.trigger('A');
      await h.waitFor('deliveries in flight', () => heldCount > 0);
      await h.stopQmgr('SIGKILL');
      inFlightAtKill.push((await h.files('active')).length);
      held = null;
      release();
      await h.startQmgr();
    }
  }
  await h.trigger('A');
  await h.waitFor(
    'every recipient final',
    async () => {
      if (want.every((k) => final.has(k))) return true;
      await h.trigger('F');
      await sleep(100);
      return false;
    },
    30_000,
  );
  await h.waitFor(
    'queues empty',
    async () =>
      (await h.files('incoming')).length +
        (await h.files('active')).length +
        (await h.files('deferred')).length ===
      0,
    10_000,
  );
  assert.deepEqual(await h.files('corrupt'), []);
  const twice = [...final.values()].filter((n) => n > 1).length;
  t.diagnostic(
    `${want.length} recipients, ${twice} with a second final outcome; files in active/ at the kills: ${inFlightAtKill}`,
  );
  assert.ok(
    inFlightAtKill.some((n) => n > 0),
    'a kill hit messages in the active queue',
  );
  assert.equal(final.size, want.length);
});
