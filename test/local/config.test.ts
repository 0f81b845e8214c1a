import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { testQueue } from '../harness/daemon.js';
import { ROOT, run } from '../harness/index.js';

async function start(t: import('node:test').TestContext, mainCf: string) {
  const q = await testQueue(t, `maillog_file_prefixes = /tmp\n${mainCf}`);
  const r = run(process.execPath, [join(ROOT, 'dist/src/local/main.js'), '-n', 'local', '-t', 'unix'], {
    env: { MAIL_CONFIG: q.configDir },
    timeoutMs: 10_000,
  });
  // A daemon logs to maillog_file, not to its standard error.
  return { status: r.status, log: existsSync(q.maillog) ? readFileSync(q.maillog, 'utf8') : r.stderr };
}

test('local refuses to start when a message may not fit in a mailbox, in Postfix words', async (t) => {
  const a = await start(t, 'mailbox_size_limit = 1000');
  assert.equal(a.status, 1);
  assert.match(
    a.log,
    / postfix\/local\[\d+\]: fatal: configuration error: mailbox_size_limit is smaller than message_size_limit$/mu,
  );
  const b = await start(t, 'mailbox_size_limit = 1000\nmessage_size_limit = 0');
  assert.equal(b.status, 1);
  assert.match(
    b.log,
    /fatal: configuration error: mailbox_size_limit is limited but message_size_limit is unlimited/u,
  );
  const c = await start(t, 'mailbox_delivery_lock = fcntl, bogus');
  assert.equal(c.status, 1);
  assert.match(c.log, /fatal: unknown mailbox lock value "bogus" in "fcntl, bogus"/u);
});
