/*
 * Content inspection through the whole system: header_checks and
 * body_checks REJECT bounce a local submission to its sender, HOLD parks
 * the message in hold/ until postsuper -H, and message_size_limit refuses
 * a message that is too big.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLEANUP_FLAG, CLEANUP_STAT, CleanupClient } from '../../src/global/cleanup_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import { header, startInstance } from '../harness/instance.js';

test('header/body checks: REJECT returns a local submission to its sender; HOLD waits for postsuper -H', async (t) => {
  const inst = startInstance(t, {
    // Inline regexp:{...} lists are split without regard to braces by cleanup (see report); files work.
    mainCf: (dir) => ({
      header_checks: `regexp:${dir}/etc/header_checks`,
      body_checks: `regexp:${dir}/etc/body_checks`,
    }),
    etcFiles: {
      header_checks:
        '/^Subject: .*forbidden/ REJECT no forbidden things here\n/^Subject: .*later/ HOLD wait for review\n',
      body_checks: '/^BAD WORD$/ REJECT watch your language\n',
    },
  });
  if (!inst) return;
  const send = (subject: string, body: string) =>
    inst.mail(['-f', 'prtest1', 'prtest2'], `Subject: ${subject}\n\n${body}\n`);
  send('something forbidden', 'x');
  send('clean subject', 'BAD WORD');
  send('see you later', 'held body');
  send('fine', 'ok');

  // The two rejected messages come back to prtest1; prtest2 gets the clean one only.
  await inst.until('two notices', () => inst.readMbox(join(inst.spool, 'prtest1')).length === 2);
  await inst.until('the clean message', () => inst.readMbox(join(inst.spool, 'prtest2')).length === 1);
  await inst.until('the held message', () => inst.queueIds('hold').length === 1);
  await inst.waitForQueueEmpty();
  const log = inst.log();
  // to= is the recipient as the envelope gave it (unqualified from sendmail), as Postfix logs it.
  assert.match(
    log,
    /postfix\/cleanup\[\d+\]: (\w+): reject: header Subject: something forbidden from local; from=<prtest1@host\.example\.com> to=<prtest2>: 5\.7\.1 no forbidden things here\n/,
  );
  assert.match(
    log,
    /postfix\/cleanup\[\d+\]: (\w+): reject: body BAD WORD from local; from=<prtest1@host\.example\.com> to=<prtest2>: 5\.7\.1 watch your language\n/,
  );
  const held =
    /postfix\/cleanup\[\d+\]: (\w+): hold: header Subject: see you later from local; from=<prtest1@host\.example\.com> to=<prtest2>: wait for review\n/.exec(
      log,
    )?.[1];
  assert.ok(held, log);
  assert.deepEqual(inst.queueIds('hold'), [held]);
  const reasons = inst
    .readMbox(join(inst.spool, 'prtest1'))
    .map((m) => m.mime.parts?.[1]?.blocks?.[1]?.find(([k]) => k === 'Diagnostic-Code')?.[1])
    .sort();
  assert.deepEqual(reasons, ['X-Postfix; no forbidden things here', 'X-Postfix; watch your language']);
  assert.deepEqual(
    inst.readMbox(join(inst.spool, 'prtest2')).map((m) => header(m, 'Subject')),
    ['fine'],
  );

  // mailq marks it held; postsuper -H releases it and it is delivered.
  assert.match(inst.cmd('mailq', []).stdout, new RegExp(`^${held}! `, 'm'));
  assert.equal(inst.cmd('postsuper', ['-H', held!]).status, 0);
  await inst.until('the released message', () => inst.readMbox(join(inst.spool, 'prtest2')).length === 2);
  assert.deepEqual(inst.queueIds('hold'), []);
  assert.deepEqual(
    inst
      .readMbox(join(inst.spool, 'prtest2'))
      .map((m) => header(m, 'Subject'))
      .sort(),
    ['fine', 'see you later'],
  );
});

test('message_size_limit: sendmail refuses a message too big; cleanup refuses one streamed to it', async (t) => {
  const inst = startInstance(t, { mainCf: { message_size_limit: '4000' } });
  if (!inst) return;
  const big = `Subject: big\n\n${'y\n'.repeat(4000)}`;
  const r = inst.sendmail(['-f', 'prtest1', 'prtest2'], big);
  // As Postfix's sendmail (EX_TEMPFAIL); nothing is queued.
  assert.equal(r.status, 75);
  assert.match(r.stderr, /^sendmail: fatal: \w+\(\d+\): message file too big$/m);
  assert.deepEqual(inst.queueIds('maildrop'), []);

  const cfg = loadMainConfig({ configDir: inst.etc });
  const c = await CleanupClient.open(cfg, CLEANUP_FLAG.MASK_EXTERNAL);
  await c.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: 'prtest1@host.example.com',
    recipients: [{ address: 'prtest2@host.example.com' }],
    attributes: { rewrite_context: 'local' },
  });
  await c.content(Buffer.from(big));
  const res = await c.finish();
  assert.equal(res.status & CLEANUP_STAT.SIZE, CLEANUP_STAT.SIZE);
  assert.match(res.reason, /^5\.3\.4 /);

  inst.mail(['-f', 'prtest1', 'prtest2'], 'Subject: small\n\nx\n');
  await inst.until('the small message', () => inst.readMbox(join(inst.spool, 'prtest2')).length === 1);
  await inst.waitForQueueEmpty();
  assert.deepEqual(
    inst.readMbox(join(inst.spool, 'prtest2')).map((m) => header(m, 'Subject')),
    ['small'],
  );
});
