/*
 * The whole instance run by an ordinary user (prtestmta, made by .ci/run):
 * every process of the instance runs as that user, mail is delivered to
 * the local mailbox and a virtual Maildir, and the admin commands work
 * for that user.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { groupMembers, header, startInstance } from '../harness/instance.js';

test('an ordinary user runs the whole system: delivery, queue listing, processes as that user', async (t) => {
  const inst = startInstance(t, {
    asUser: 'prtestmta',
    mainCf: {
      virtual_mailbox_domains: 'vbox.example',
      virtual_mailbox_maps: 'inline:{ {u1@vbox.example = u1/Maildir/} }',
    },
  });
  if (!inst) return;
  const me = inst.runAs!;
  inst.mail(['-f', 'prtestmta', 'prtestmta'], 'Subject: mine\n\nx\n');
  inst.mail(['u1@vbox.example'], 'Subject: virtual\n\nx\n');
  await inst.waitForLog(/to=<u1@vbox\.example>.*status=sent/);
  await inst.waitForLog(/to=<prtestmta@host\.example\.com>.*status=sent/);
  await inst.waitForQueueEmpty();

  const mbox = join(inst.spool, 'prtestmta');
  assert.equal(statSync(mbox).uid, me.uid);
  assert.deepEqual(
    inst.readMbox(mbox).map((m) => header(m, 'Subject')),
    ['mine'],
  );
  assert.match(inst.log(), new RegExp(`postfix/pickup\\[\\d+\\]: \\w+: uid=${me.uid} from=<prtestmta>`));
  const md = inst.readMaildir(join(inst.vmail, 'u1/Maildir'));
  assert.deepEqual(
    md.map((m) => header(m, 'Subject')),
    ['virtual'],
  );

  // Every process of the instance runs as the user.
  const master = inst.masterPid()!;
  const pids = groupMembers(master);
  assert.ok(pids.length >= 3, `master and its services: ${pids}`);
  for (const pid of pids) {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.equal(Number(uid), me.uid, `process ${pid} runs as ${me.name}`);
  }
  const q = inst.cmd('postqueue', ['-p']);
  assert.equal(q.stdout, 'Mail queue is empty\n');
  const s = inst.cmd('postsuper', ['-d', 'ALL']);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(s.stderr, 'postsuper: Deleted: 0 messages\n');
});
