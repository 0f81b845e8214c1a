import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEL_REQ_FLAG } from '../../src/global/deliver_request.js';
import { goldenLines, startLocal } from './fixture.js';
import { testUser } from './users.js';

test('mbox in mail_spool_directory: headers, From_ line, log line as Postfix, recipient done', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t, 'recipient_delimiter = +');
  const { reply, id } = await lt.deliver({
    recipients: [{ address: 'prtest1+ext@host.example', orig: 'prtest1+ext' }],
    content: 'Subject: x\n\nFrom here\nbody\n',
  });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.deepEqual(
    lt.statusLines(id),
    goldenLines('prtest1+ext').map((l) => l.replaceAll('mx.example.com', 'host.example')),
  );
  const box = readFileSync(join(lt.spool, 'prtest1'), 'utf8');
  assert.match(box, /^From sender@example\.com {2}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/u);
  assert.equal(
    box.slice(box.indexOf('\n') + 1),
    'Return-Path: <sender@example.com>\nX-Original-To: prtest1+ext\nDelivered-To: prtest1+ext@host.example\nSubject: x\n\n>From here\nbody\n\n',
  );
  if (process.getuid?.() === 0) assert.equal(statSync(join(lt.spool, 'prtest1')).uid, u.uid);
  assert.deepEqual(await lt.done(id), [true]);
});

test('mail_spool_directory ending in / is a Maildir; home_mailbox too', async (t) => {
  const u = testUser(t, 'prtest2');
  if (!u) return;
  const lt = await startLocal(t, (q) => `mail_spool_directory = ${q.base}/spool/`);
  const { id } = await lt.deliver({ recipients: ['prtest2@host.example'] });
  assert.deepEqual(lt.statusLines(id), [
    'to=<prtest2@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to maildir)',
  ]);
  const dir = join(lt.spool, 'prtest2', 'new');
  const names = readdirSync(dir);
  assert.equal(names.length, 1);
  const text = readFileSync(join(dir, names[0] as string), 'utf8');
  assert.equal(
    text,
    'Return-Path: <sender@example.com>\nX-Original-To: prtest2@host.example\nDelivered-To: prtest2@host.example\nSubject: test\n\nbody\n',
  );
  if (process.getuid?.() === 0) assert.equal(statSync(join(dir, names[0] as string)).uid, u.uid);
});

test('unknown user bounces 5.1.1 with Postfix wording (local part folded to lower case)', async (t) => {
  const lt = await startLocal(t);
  const { reply, id } = await lt.deliver({
    recipients: [{ address: 'NoSuchUser@host.example', orig: 'nosuchuser' }],
  });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['bounced'],
  );
  assert.deepEqual(lt.statusLines(id), [
    'to=<NoSuchUser@host.example>, orig_to=<nosuchuser>, relay=local, dsn=5.1.1, status=bounced (unknown user: "nosuchuser")',
  ]);
  const golden = goldenLines('nosuchuser').map((l) => l.replaceAll('mx.example.com', 'host.example'));
  assert.deepEqual(golden, [
    'to=<nosuchuser@host.example>, orig_to=<nosuchuser>, relay=local, dsn=5.1.1, status=bounced (unknown user: "nosuchuser")',
  ]);
  const b = lt.logs.find((l) => l.service === 'bounce');
  assert.equal(b?.reason, 'unknown user: "nosuchuser"');
  assert.equal(b?.status, '5.1.1');
  assert.deepEqual(await lt.done(id), [true]);
});

test('a Delivered-To: header naming the recipient is a mail forwarding loop (5.4.6), as Postfix', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t);
  const { id } = await lt.deliver({
    recipients: [{ address: 'prtest1@host.example', orig: 'prtest1' }],
    content: 'Delivered-To: PRTEST1@host.example\nSubject: loop\n\nbody\n',
  });
  const golden = goldenLines('prtest1').map((l) => l.replaceAll('mx.example.com', 'host.example'));
  assert.deepEqual(lt.statusLines(id), golden);
});

test('an address verification request is never delivered: "deliverable (delivers to mailbox)"', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  const lt = await startLocal(t);
  const { reply, id } = await lt.deliver({
    recipients: ['prtest1@host.example'],
    flags: DEL_REQ_FLAG.VERIFY,
  });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.equal(existsSync(join(lt.spool, 'prtest1')), false);
  assert.match(lt.statusLines(id)[0] ?? '', /dsn=2\.0\.0, status=deliverable \(delivers to mailbox\)$/u);
});

test('biff = yes: comsat gets "user@offset" for each mbox delivery (not with biff = no)', async (t) => {
  const u = testUser(t, 'prtest1');
  if (!u) return;
  if (process.getuid?.() !== 0) return t.skip('the biff port 512 needs root');
  const got: string[] = [];
  const sock = createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    sock.once('error', () => resolve(false));
    sock.bind(512, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return t.skip('UDP 127.0.0.1:512 is in use');
  t.after(() => sock.close());
  sock.on('message', (m) => got.push(m.toString('latin1')));
  // Other tests deliver to prtest1 at the same time: a message of an odd
  // size makes the second offset ours alone.
  const odd = `Subject: biff\n\n${'b'.repeat(10_000 + (process.pid % 5000))}\n`;
  const lt = await startLocal(t);
  await lt.deliver({ recipients: ['prtest1@host.example'], content: odd });
  const first = statSync(join(lt.spool, 'prtest1')).size;
  await lt.deliver({ recipients: ['prtest1@host.example'] });
  for (let i = 0; i < 100 && !got.includes(`prtest1@${first}\0`); i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(got.includes('prtest1@0\0'));
  assert.ok(got.includes(`prtest1@${first}\0`), JSON.stringify(got));
  const lt2 = await startLocal(t, 'biff = no');
  await lt2.deliver({ recipients: ['prtest1@host.example'], content: `${odd}x\n` });
  const first2 = statSync(join(lt2.spool, 'prtest1')).size;
  await lt2.deliver({ recipients: ['prtest1@host.example'] });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!got.includes(`prtest1@${first2}\0`));
});
