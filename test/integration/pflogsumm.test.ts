/*
 * Debian's pflogsumm over the maillog of a real run: what was received,
 * delivered, bounced and deferred must be what the run did. Missing
 * pflogsumm skips locally and fails under CI=true (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { postfixCommand, run } from '../harness/index.js';
import { sleep, startInstance } from '../harness/instance.js';

function grandTotal(report: string, label: string): number {
  const m = new RegExp(`^\\s*(\\d+)k?\\s+${label}\\b`, 'm').exec(report);
  assert.ok(m, `pflogsumm reports "${label}":\n${report}`);
  return Number(m[1]);
}

test('pflogsumm counts a real run: received, delivered, bounced, deferred', async (t) => {
  const pflogsumm = postfixCommand(t, 'pflogsumm');
  if (pflogsumm === null) return;
  const inst = startInstance(t, {
    mainCf: { queue_run_delay: '3600s', minimal_backoff_time: '3600s', maximal_backoff_time: '3600s' },
    aliases: (dir) =>
      `postmaster: root\nflaky: "|/bin/sh -c 'test -f ${dir}/files/ok || exit 75; cat > /dev/null'"\n`,
  });
  if (!inst) return;
  const send = (from: string, to: string) => inst.mail(['-f', from, to], `Subject: to ${to}\n\nx\n`);
  // 3 delivered, 1 bounced (its notice is delivered too), 1 deferred then delivered.
  send('alice@example.org', 'prtest1');
  send('bob@example.net', 'prtest1');
  send('alice@example.org', 'prtest2');
  send('prtest2', 'nosuchuser');
  send('carol@example.org', 'flaky');
  const waitLines = async (re: RegExp, n: number) => {
    const end = Date.now() + 30_000;
    while ((inst.log().match(re) ?? []).length < n) {
      if (Date.now() > end) throw new Error(`fewer than ${n} ${re}\n${inst.log()}`);
      await sleep(50);
    }
  };
  await waitLines(/status=deferred/g, 1);
  await waitLines(/status=sent/g, 4);
  writeFileSync(join(inst.files, 'ok'), '');
  assert.equal(inst.cmd('postqueue', ['-f']).status, 0);
  await waitLines(/status=sent/g, 5);
  await inst.waitForQueueEmpty();
  rmSync(join(inst.files, 'ok'));

  const r = run(pflogsumm, ['--problems-first', inst.maillog]);
  assert.equal(r.status, 0, r.stderr);
  const report = r.stdout;
  t.diagnostic(report.split('\n').slice(0, 30).join('\n'));
  assert.equal(grandTotal(report, 'received'), 5);
  assert.equal(grandTotal(report, 'delivered'), 5);
  assert.equal(grandTotal(report, 'forwarded'), 0);
  assert.equal(grandTotal(report, 'deferred'), 1);
  assert.match(report, /deferred\s+\(1\s+deferrals?\)/);
  assert.equal(grandTotal(report, 'bounced'), 1);
  assert.equal(grandTotal(report, 'rejected'), 0);
  assert.equal(grandTotal(report, 'senders'), 4);
  // prtest1, prtest2 (also the notice's recipient) and flaky.
  assert.equal(grandTotal(report, 'recipients'), 3);
  assert.match(report, /unknown user: "nosuchuser"/);
  assert.match(report, /temporary failure/);
});
