/*
 * The queue through the whole system: a delivery that fails for now is
 * deferred, listed by postqueue -p / -j and mailq, held and released with
 * postsuper -h / -H, requeued with -r, deleted with -d, and delivered by
 * postqueue -f once the mailbox works; error, retry and discard transports
 * chosen through transport_maps.
 */
import assert from 'node:assert/strict';
import { chownSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot } from '../../src/master/master_user.js';
import { account, startInstance } from '../harness/instance.js';

test('deferred mail: postqueue -p/-j, postsuper -h/-H/-r/-d, postqueue -f delivers', async (t) => {
  const inst = startInstance(t, {
    // Only postqueue -f retries: the test decides when the deferred mail goes again.
    mainCf: { queue_run_delay: '3600s', minimal_backoff_time: '3600s', maximal_backoff_time: '3600s' },
    aliases: (dir) =>
      `postmaster: root\nflaky: "|/bin/sh -c 'test -f ${dir}/files/ok || exit 75; cat >> ${dir}/files/flaky.out'"\n`,
  });
  if (!inst) return;
  const ok = join(inst.files, 'ok');
  const send = (subject: string) =>
    inst.mail(['-f', 'sender@example.org', 'flaky'], `Subject: ${subject}\n\nx\n`);

  send('first');
  await inst.until('the first deferral', () => inst.queueIds('deferred').length === 1);
  const [id] = inst.queueIds('deferred');
  const deferLine = await inst.waitForLog(
    new RegExp(
      `${id}: to=<flaky@host\\.example\\.com>, orig_to=<flaky>, relay=local, .*dsn=4\\.3\\.0, status=deferred \\(temporary failure`,
    ),
  );
  assert.ok(deferLine);

  // postqueue -p and mailq: the deferred message with its reason, in Postfix's columns.
  const p = inst.cmd('postqueue', ['-p']);
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.split('\n');
  assert.equal(lines[0], '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------');
  assert.match(
    lines[1]!,
    new RegExp(`^${id} +\\d+ \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d  sender@example\\.org$`),
  );
  assert.match(lines[2]!, /^ {20,}\(temporary failure.*\)$/);
  assert.match(lines[3]!, /^ {41}flaky@host\.example\.com$/);
  assert.match(p.stdout, /\n-- \d+ Kbytes in 1 Request\.\n$/);
  assert.equal(inst.cmd('mailq', []).stdout, p.stdout);

  const j = inst.cmd('postqueue', ['-j']);
  assert.equal(j.status, 0, j.stderr);
  const entry = JSON.parse(j.stdout.trim());
  assert.equal(entry.queue_name, 'deferred');
  assert.equal(entry.queue_id, id);
  assert.equal(entry.sender, 'sender@example.org');
  assert.equal(entry.recipients[0].address, 'flaky@host.example.com');
  assert.match(entry.recipients[0].delay_reason, /^temporary failure/);
  assert.equal(typeof entry.arrival_time, 'number');
  assert.equal(typeof entry.message_size, 'number');

  // Hold and release.
  const h = inst.cmd('postsuper', ['-h', id!]);
  assert.equal(h.stderr, `postsuper: ${id}: placed on hold\npostsuper: Placed on hold: 1 message\n`);
  assert.deepEqual(inst.queueIds('hold'), [id]);
  assert.match(inst.cmd('mailq', []).stdout, new RegExp(`^${id}! `, 'm'));
  const H = inst.cmd('postsuper', ['-H', id!]);
  assert.equal(H.stderr, `postsuper: ${id}: released from hold\npostsuper: Released from hold: 1 message\n`);
  assert.deepEqual(inst.queueIds('deferred'), [id]);

  // The mailbox works again: postqueue -f delivers now.
  writeFileSync(ok, '');
  const f = inst.cmd('postqueue', ['-f']);
  assert.equal(f.status, 0, f.stderr);
  await inst.waitForQueueEmpty();
  await inst.waitForLog(
    new RegExp(
      `${id}: to=<flaky@host\\.example\\.com>, orig_to=<flaky>, relay=local, .*dsn=2\\.0\\.0, status=sent \\(delivered to command:`,
    ),
  );
  assert.match(readFileSync(join(inst.files, 'flaky.out'), 'utf8'), /^Subject: first$/m);

  // Deferred again: postsuper -d removes it for good.
  rmSync(ok);
  send('second');
  await inst.until('the second deferral', () => inst.queueIds('deferred').length === 1);
  const [id2] = inst.queueIds('deferred');
  const d = inst.cmd('postsuper', ['-d', id2!]);
  assert.equal(d.stderr, `postsuper: ${id2}: removed\npostsuper: Deleted: 1 message\n`);
  assert.deepEqual(inst.queueIds('deferred'), []);
  await inst.waitForLog(new RegExp(`postfix/postsuper\\[\\d+\\]: ${id2}: removed\n`));
  assert.equal(inst.cmd('postqueue', ['-p']).stdout, 'Mail queue is empty\n');

  // Requeue: -r sends it through pickup and cleanup again; then it is delivered.
  send('third');
  await inst.until('the third deferral', () => inst.queueIds('deferred').length === 1);
  const [id3] = inst.queueIds('deferred');
  writeFileSync(ok, '');
  const r = inst.cmd('postsuper', ['-r', id3!]);
  assert.equal(r.stderr, `postsuper: ${id3}: requeued\npostsuper: Requeued: 1 message\n`);
  await inst.waitForQueueEmpty();
  // A new queue ID through pickup and cleanup; the Message-ID stays.
  const requeued = new RegExp(
    `${id3}: requeued\\n[\\s\\S]*cleanup\\[\\d+\\]: (\\w+): message-id=<\\d+\\.${id3}@`,
  );
  const newId = requeued.exec(await inst.waitForLog(requeued))?.[1];
  assert.ok(newId && newId !== id3);
  await inst.waitForLog(
    new RegExp(
      `${newId}: to=<flaky@host\\.example\\.com>, orig_to=<flaky>, .*status=sent \\(delivered to command`,
    ),
  );
  await inst.until('the third delivery', () =>
    /^Subject: third$/m.test(readFileSync(join(inst.files, 'flaky.out'), 'utf8')),
  );
  assert.doesNotMatch(readFileSync(join(inst.files, 'flaky.out'), 'utf8'), /^Subject: second$/m);
  assert.ok(!existsSync(join(inst.queue, 'defer', id3!)));
});

test('transport_maps: error bounces, retry defers, discard drops', async (t) => {
  const inst = startInstance(t, {
    mainCf: {
      transport_maps:
        'inline:{ {err.example = error:5.1.2 no such place}, {retry.example = retry:4.4.1 try later}, {drop.example = discard:dropped here} }',
    },
  });
  if (!inst) return;
  for (const to of ['a@err.example', 'b@retry.example', 'c@drop.example'])
    inst.mail(['-f', 'prtest1', to], `Subject: ${to}\n\nx\n`);
  await inst.until('all three outcomes', () =>
    ['a@err.example', 'b@retry.example', 'c@drop.example'].every((a) => inst.log().includes(`to=<${a}>`)),
  );
  const text = inst.log();
  assert.match(
    text,
    /postfix\/error\[\d+\]: \w+: to=<a@err\.example>, relay=none, delay=[\d.]+, delays=[\d./]+, dsn=5\.1\.2, status=bounced \(no such place\)/,
  );
  assert.match(
    text,
    /postfix\/error\[\d+\]: \w+: to=<b@retry\.example>, relay=none, delay=[\d.]+, delays=[\d./]+, dsn=4\.4\.1, status=deferred \(try later\)/,
  );
  assert.match(
    text,
    /postfix\/discard\[\d+\]: \w+: to=<c@drop\.example>, relay=none, delay=[\d.]+, delays=[\d./]+, dsn=2\.0\.0, status=sent \(dropped here\)/,
  );
  // The retry service runs the error program: Postfix logs it as postfix/error too.
  // The bounce for a@err.example reaches the sender.
  await inst.waitForLog(/sender non-delivery notification/);
  await inst.until(
    "the bounce in prtest1's mailbox",
    () => inst.readMbox(join(inst.spool, 'prtest1')).length === 1,
  );
});

test('a mailbox that fails for now defers (postcat -q, qshape show it); fixed, postqueue -i delivers it', async (t) => {
  if (!isRoot()) {
    t.skip('the ownership check of mailboxes applies as root');
    return;
  }
  const [p1, p2] = [account(t, 'prtest1'), account(t, 'prtest2')];
  if (!p1 || !p2) return;
  const inst = startInstance(t, {
    mainCf: { queue_run_delay: '3600s', minimal_backoff_time: '3600s', maximal_backoff_time: '3600s' },
  });
  if (!inst) return;
  // prtest1's mbox exists but belongs to someone else: local defers rather than write into it.
  const mbox = join(inst.spool, 'prtest1');
  writeFileSync(mbox, '', { mode: 0o600 });
  chownSync(mbox, p2.uid, p2.gid);
  inst.mail(['-f', 'sender@example.org', 'prtest1'], 'Subject: patience\n\nx\n');
  await inst.until('the deferral', () => inst.queueIds('deferred').length === 1);
  const [id] = inst.queueIds('deferred');
  assert.match(
    inst.log(),
    new RegExp(
      `${id}: to=<prtest1@host\\.example\\.com>, orig_to=<prtest1>, relay=local, .*dsn=4\\.2\\.0, status=deferred \\(destination ${mbox} is not owned by recipient\\)`,
    ),
  );
  // What an admin looks at meanwhile: postcat -q and qshape.
  const cat = inst.cmd('postcat', ['-q', id!]);
  assert.equal(cat.status, 0, cat.stderr);
  assert.match(cat.stdout, new RegExp(`^\\*\\*\\* ENVELOPE RECORDS deferred/(\\w/)?${id} \\*\\*\\*$`, 'm'));
  assert.match(cat.stdout, /^sender: sender@example\.org$/m);
  assert.match(cat.stdout, /^recipient: prtest1@host\.example\.com$/m);
  assert.match(cat.stdout, /^Subject: patience$/m);
  const shape = inst.cmd('qshape', ['deferred']);
  assert.equal(shape.status, 0, shape.stderr);
  assert.match(shape.stdout, /^\s+TOTAL\s+1\s/m);
  assert.match(shape.stdout, /^\s+host\.example\.com\s+1\s/m);
  chownSync(mbox, p1.uid, p1.gid);
  // postqueue -i: this one message now.
  assert.equal(inst.cmd('postqueue', ['-i', id!]).status, 0);
  await inst.waitForQueueEmpty();
  await inst.waitForLog(
    new RegExp(`${id}: to=<prtest1@host\\.example\\.com>, .*status=sent \\(delivered to mailbox\\)`),
  );
  assert.equal(inst.readMbox(mbox).length, 1);
});
