/*
 * The bounce program as its three services (bounce, defer, trace), each a
 * process on a temporary queue, driven with src/global/bounce_client.ts as
 * delivery agents and qmgr drive it; notices go to a fake cleanup and are
 * read back with Python's email package.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import {
  bounceFlush,
  deferWarn,
  type LogEntry,
  logAppend,
  traceFlush,
} from '../../src/global/bounce_client.js';
import { CLEANUP_FLAG } from '../../src/global/cleanup_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import {
  DSN_NOTIFY_FAILURE,
  DSN_NOTIFY_NEVER,
  DSN_NOTIFY_SUCCESS,
  DSN_RET_HDRS,
} from '../../src/global/dsn.js';
import { queueFilePath } from '../../src/global/queue_dirs.js';
import { rpcCall } from '../../src/global/rpc.js';
import { parseDeferLog } from '../../src/showq/listing.js';
import { ROOT, run } from '../harness/index.js';
import { queueMessage, setup } from './daemon.js';
import { field, parse } from './dsn_mime.js';

const MESSAGE =
  'From: Alice <alice@virt.example>\nTo: Bob <bob@mx.example.org>\nSubject: lunch\nMessage-ID: <m1@virt.example>\n\nHello Bob.\nSee you.\n';

const entry = (address: string, offset: number, more: Partial<LogEntry> = {}): LogEntry => ({
  recipient: { address, offset, dsn_orcpt: `rfc822;${address}` },
  status: '5.1.1',
  action: 'failed',
  reason: 'User unknown',
  relay: 'none',
  ...more,
});

test('append: one record per call, synced, mode 0600, in the hashed log showq reads', async (t) => {
  const s = await setup(t);
  await s.start('defer');
  const id = await queueMessage(s.layout, {
    sender: 'alice@virt.example',
    recipients: [{ address: 'carol@mx.example.org' }],
    content: MESSAGE,
  });
  await logAppend(s.cfg, 'defer', id, {
    recipient: { address: 'carol@mx.example.org', offset: 120, orig: 'c@mx.example.org', dsn_notify: 12 },
    status: '4.2.2',
    action: 'delayed',
    reason: 'Mailbox full\nsecond line',
    relay: 'local',
  });
  const path = queueFilePath(s.layout, 'defer', id);
  // defer is in the default hash_queue_names: one level of subdirectory.
  assert.match(path, new RegExp(`/defer/[0-9A-F]/${id}$`));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, 'utf8');
  assert.match(
    text,
    /^recipient=carol@mx\.example\.org\norig_rcpt=c@mx\.example\.org\noffset=120\ndsn_notify=12\nstatus=4\.2\.2\naction=delayed\nreason=Mailbox full second line\nrelay=local\ntime=\d+\n\n$/,
  );
  assert.deepEqual(parseDeferLog(text), new Map([['carol@mx.example.org', 'Mailbox full second line']]));

  // A record torn by a crash (here: written by hand) does not swallow the next one.
  appendFileSync(path, 'recipient=torn@y\noffs');
  await logAppend(
    s.cfg,
    'defer',
    id,
    entry('dan@y', 7, { status: '4.4.1', action: 'delayed', reason: 'timeout' }),
  );
  const after = readFileSync(path, 'utf8');
  assert.ok(after.startsWith(`${text}recipient=torn@y\noffs\n\nrecipient=dan@y\n`), after);
  assert.deepEqual([...parseDeferLog(after).keys()], ['carol@mx.example.org', 'dan@y']);
});

test('concurrent appends to one log never interleave', async (t) => {
  const s = await setup(t);
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'a@x',
    recipients: [{ address: 'b@y' }],
    content: MESSAGE,
  });
  const n = 60;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      logAppend(s.cfg, 'bounce', id, entry(`r${i}@y`, i, { reason: `reason ${i} ${'x'.repeat(i * 50)}` })),
    ),
  );
  const blocks = readFileSync(queueFilePath(s.layout, 'bounce', id), 'utf8')
    .split('\n\n')
    .slice(0, -1);
  assert.equal(blocks.length, n);
  const seen = new Set<number>();
  for (const b of blocks) {
    const m =
      /^recipient=r(\d+)@y\noffset=(\d+)\ndsn_orig_rcpt=rfc822;r\d+@y\nstatus=5\.1\.1\naction=failed\nreason=reason (\d+) x*\nrelay=none\ntime=\d+$/.exec(
        b,
      );
    assert.ok(m, b);
    assert.equal(m[1], m[2]);
    assert.equal(m[1], m[3]);
    seen.add(Number(m[1]));
  }
  assert.equal(seen.size, n);
});

test('flush: a non-delivery notice to the sender through cleanup, then the log is removed', async (t) => {
  const s = await setup(t);
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'alice@virt.example',
    recipients: [{ address: 'bob@mx.example.org', dsnOrcpt: 'rfc822;bob@mx.example.org' }],
    content: MESSAGE,
    dsnEnvid: 'envid123',
  });
  await logAppend(s.cfg, 'bounce', id, entry('bob@mx.example.org', 77));
  await logAppend(
    s.cfg,
    'bounce',
    id,
    entry('dave@remote.example', 99, {
      recipient: { address: 'dave@remote.example', offset: 99, orig: 'd@virt.example' },
      status: '5.1.1',
      reason:
        'host mx.remote.example[192.0.2.7] said: 550 5.1.1 <dave@remote.example>: no such user (in reply to RCPT TO command)',
      relay: 'mx.remote.example[192.0.2.7]:25',
    }),
  );
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id, sender: 'alice@virt.example' });
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), false);
  assert.equal(s.cleanup.messages.length, 1);
  const m = s.cleanup.messages[0]!;
  assert.equal(m.sender, '');
  assert.deepEqual(m.recipients, ['alice@virt.example']);
  assert.equal(m.flags & CLEANUP_FLAG.BOUNCE, 0);
  assert.equal(m.flags, CLEANUP_FLAG.MAP_OK);
  await s.waitLog(
    new RegExp(`postfix/bounce\\[\\d+\\]: ${id}: sender non-delivery notification: C0FFEE[0-9A-F]+\\n`),
  );

  const top = parse(m.content);
  assert.deepEqual(top.defects, []);
  assert.equal(top.type, 'multipart/report');
  assert.equal(top.params['report-type'], 'delivery-status');
  assert.equal(field(top.headers, 'To'), 'alice@virt.example');
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.failure.subject);
  assert.equal(
    field(top.headers, 'From'),
    DEFAULT_TEMPLATES.failure.from.replace('MAILER-DAEMON', 'MAILER-DAEMON@mx.example.org'),
  );
  const [human, report, returned] = top.parts!;
  assert.match(human!.text!, /<bob@mx\.example\.org>: User unknown\n/);
  assert.match(
    human!.text!,
    /<dave@remote\.example> \(expanded from <d@virt\.example>\): host\n {4}mx\.remote\.example\[192\.0\.2\.7\] said: 550 5\.1\.1/,
  );
  assert.equal(report!.type, 'message/delivery-status');
  const [perMessage, bob, dave] = report!.blocks!;
  assert.equal(field(perMessage!, 'Reporting-MTA'), 'dns; mx.example.org');
  assert.equal(field(perMessage!, 'Original-Envelope-Id'), 'envid123');
  assert.equal(field(perMessage!, 'X-Postfix-Queue-ID'), id);
  assert.equal(field(perMessage!, 'X-Postfix-Sender'), 'rfc822; alice@virt.example');
  assert.deepEqual(bob, [
    ['Final-Recipient', 'rfc822; bob@mx.example.org'],
    ['Original-Recipient', 'rfc822;bob@mx.example.org'],
    ['Action', 'failed'],
    ['Status', '5.1.1'],
    ['Diagnostic-Code', 'X-Postfix; User unknown'],
  ]);
  assert.deepEqual(dave, [
    ['Final-Recipient', 'rfc822; dave@remote.example'],
    ['Original-Recipient', 'rfc822;d@virt.example'],
    ['Action', 'failed'],
    ['Status', '5.1.1'],
    ['Remote-MTA', 'dns; mx.remote.example'],
    ['Diagnostic-Code', 'smtp; 550 5.1.1 <dave@remote.example>: no such user'],
  ]);
  assert.equal(returned!.type, 'message/rfc822');
  assert.equal(field(returned!.message!.headers, 'Return-Path'), '<alice@virt.example>');
  assert.equal(field(returned!.message!.headers, 'Subject'), 'lunch');
  assert.equal(returned!.message!.text, 'Hello Bob.\nSee you.\n');
});

test('flush: RET=HDRS returns the headers only', async (t) => {
  const s = await setup(t);
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'alice@virt.example',
    recipients: [{ address: 'bob@mx.example.org' }],
    content: MESSAGE,
    dsnRet: DSN_RET_HDRS,
  });
  await logAppend(s.cfg, 'bounce', id, entry('bob@mx.example.org', 50));
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id, sender: 'alice@virt.example' });
  const returned = parse(s.cleanup.messages[0]!.content).parts![2]!;
  assert.equal(returned.type, 'text/rfc822-headers');
  assert.match(returned.text!, /^Return-Path: <alice@virt\.example>\nFrom: Alice/);
  assert.doesNotMatch(returned.text!, /Hello Bob/);
});

test('NOTIFY: only recipients that want failures are reported; NEVER for all: no notice', async (t) => {
  const s = await setup(t);
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'x@y' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'bounce',
    id,
    entry('never@y', 1, { recipient: { address: 'never@y', offset: 1, dsn_notify: DSN_NOTIFY_NEVER } }),
  );
  await logAppend(
    s.cfg,
    'bounce',
    id,
    entry('success@y', 2, { recipient: { address: 'success@y', offset: 2, dsn_notify: DSN_NOTIFY_SUCCESS } }),
  );
  await logAppend(
    s.cfg,
    'bounce',
    id,
    entry('fail@y', 3, { recipient: { address: 'fail@y', offset: 3, dsn_notify: DSN_NOTIFY_FAILURE } }),
  );
  await logAppend(s.cfg, 'bounce', id, entry('plain@y', 4, { recipient: { address: 'plain@y', offset: 4 } }));
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id, sender: 'a@virt.example' });
  const report = parse(s.cleanup.messages[0]!.content).parts![1]!;
  assert.deepEqual(
    report.blocks!.slice(1).map((b) => field(b, 'Final-Recipient')),
    ['rfc822; fail@y', 'rfc822; plain@y'],
  );

  const id2 = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'x@y' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'bounce',
    id2,
    entry('never@y', 1, { recipient: { address: 'never@y', offset: 1, dsn_notify: DSN_NOTIFY_NEVER } }),
  );
  const before = s.cleanup.connections;
  // The original is not even needed: "deferred" holds no such file.
  await bounceFlush(s.cfg, { queue_name: 'deferred', queue_id: id2, sender: 'a@virt.example' });
  assert.equal(s.cleanup.connections, before);
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id2)), false);
  assert.doesNotMatch(s.log(), new RegExp(`${id2}: sender non-delivery`));
});

test('a bounce of a bounce is dropped by default, goes to 2bounce_notice_recipient with 2bounce', async (t) => {
  const quiet = await setup(t);
  await quiet.start('bounce');
  const id = await queueMessage(quiet.layout, {
    sender: '',
    recipients: [{ address: 'a@virt.example' }],
    content: MESSAGE,
  });
  await logAppend(quiet.cfg, 'bounce', id, entry('a@virt.example', 1));
  await bounceFlush(quiet.cfg, { queue_name: 'active', queue_id: id, sender: '' });
  assert.equal(quiet.cleanup.connections, 0);
  assert.equal(existsSync(queueFilePath(quiet.layout, 'bounce', id)), false);

  const s = await setup(t, 'notify_classes = 2bounce\n2bounce_notice_recipient = dbl@mx.example.org\n');
  await s.start('bounce');
  const id2 = await queueMessage(s.layout, {
    sender: '',
    recipients: [{ address: 'a@virt.example' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'bounce',
    id2,
    entry('a@virt.example', 1, {
      recipient: { address: 'a@virt.example', offset: 1, dsn_notify: DSN_NOTIFY_NEVER },
    }),
  );
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id2, sender: '' });
  const m = s.cleanup.messages[0]!;
  assert.equal(m.sender, 'double-bounce@mx.example.org');
  assert.deepEqual(m.recipients, ['dbl@mx.example.org']);
  const top = parse(m.content);
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.failure.postmasterSubject);
  assert.equal(field(top.headers, 'Auto-Submitted'), 'auto-generated');
  // Postfix returns the whole double bounce, its null sender shown as MAILER-DAEMON.
  assert.equal(top.parts![2]!.type, 'message/rfc822');
  assert.equal(field(top.parts![2]!.message!.headers, 'Return-Path'), '<MAILER-DAEMON@mx.example.org>');
  assert.equal(field(top.parts![1]!.blocks![0]!, 'X-Postfix-Sender'), 'rfc822; MAILER-DAEMON@mx.example.org');
  await s.waitLog(new RegExp(`${id2}: postmaster non-delivery notification: C0FFEE`));

  // A postmaster notice that itself failed is never bounced again.
  const id3 = await queueMessage(s.layout, {
    sender: 'double-bounce@mx.example.org',
    recipients: [{ address: 'dbl@mx.example.org' }],
    content: MESSAGE,
  });
  await logAppend(s.cfg, 'bounce', id3, entry('dbl@mx.example.org', 1));
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id3, sender: 'double-bounce@mx.example.org' });
  assert.equal(s.cleanup.messages.length, 1);
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id3)), false);
  await s.waitLog(new RegExp(`warning: ${id3}: undeliverable postmaster notification discarded`));
});

test('notify_classes = bounce: a postmaster copy with headers only besides the sender notice', async (t) => {
  const s = await setup(t, 'notify_classes = bounce\nbounce_notice_recipient = pm@mx.example.org\n');
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'b@y' }],
    content: MESSAGE,
  });
  await logAppend(s.cfg, 'bounce', id, entry('b@y', 1));
  await bounceFlush(s.cfg, { queue_name: 'active', queue_id: id, sender: 'a@virt.example' });
  assert.deepEqual(
    s.cleanup.messages.map((m) => [m.sender, m.recipients]),
    [
      ['', ['a@virt.example']],
      ['double-bounce@mx.example.org', ['pm@mx.example.org']],
    ],
  );
  assert.equal(parse(s.cleanup.messages[1]!.content).parts![2]!.type, 'text/rfc822-headers');
  await s.waitLog(
    new RegExp(
      `${id}: sender non-delivery notification: .*\\n.*${id}: postmaster non-delivery notification: `,
    ),
  );
});

test('warn: a delay notice from the defer log, which stays', async (t) => {
  const s = await setup(t);
  await s.start('defer');
  const id = await queueMessage(s.layout, {
    sender: 'alice@virt.example',
    recipients: [{ address: 'carol@y' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'defer',
    id,
    entry('carol@y', 5, { status: '4.2.2', action: 'delayed', reason: 'Mailbox full' }),
  );
  await deferWarn(s.cfg, { queue_name: 'active', queue_id: id, sender: 'alice@virt.example' });
  assert.equal(existsSync(queueFilePath(s.layout, 'defer', id)), true);
  const m = s.cleanup.messages[0]!;
  assert.deepEqual([m.sender, m.recipients], ['', ['alice@virt.example']]);
  const top = parse(m.content);
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.delay.subject);
  const carol = top.parts![1]!.blocks![1]!;
  assert.equal(field(carol, 'Action'), 'delayed');
  assert.equal(field(carol, 'Status'), '4.2.2');
  // Arrival (1795602209) plus maximal_queue_lifetime = 1d.
  assert.equal(field(carol, 'Will-Retry-Until'), 'Thu, 26 Nov 2026 10:23:29 +0000 (UTC)');
  assert.equal(top.parts![2]!.type, 'text/rfc822-headers');
  await s.waitLog(new RegExp(`postfix/bounce\\[\\d+\\]: ${id}: sender delay notification: C0FFEE`));
});

test('trace flush: the success notice, then the trace log is removed', async (t) => {
  const s = await setup(t);
  await s.start('trace');
  const id = await queueMessage(s.layout, {
    sender: 'alice@virt.example',
    recipients: [{ address: 'alice@virt.example' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'trace',
    id,
    entry('alice@virt.example', 9, {
      recipient: { address: 'alice@virt.example', offset: 9, dsn_notify: DSN_NOTIFY_SUCCESS },
      status: '2.0.0',
      action: 'delivered',
      reason: 'delivered to maildir',
      relay: 'virtual',
    }),
  );
  await logAppend(
    s.cfg,
    'trace',
    id,
    entry('zed@remote.example', 11, {
      recipient: { address: 'zed@remote.example', offset: 11, dsn_notify: DSN_NOTIFY_SUCCESS },
      status: '2.0.0',
      action: 'relayed',
      reason: '250 2.0.0 Ok: queued as 4XYZ',
      relay: 'mx.remote.example[192.0.2.7]:25',
    }),
  );
  await traceFlush(s.cfg, { queue_name: 'active', queue_id: id, sender: 'alice@virt.example' });
  assert.equal(existsSync(queueFilePath(s.layout, 'trace', id)), false);
  const top = parse(s.cleanup.messages[0]!.content);
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.success.subject);
  const [, alice, zed] = top.parts![1]!.blocks!;
  assert.equal(field(alice!, 'Action'), 'delivered');
  assert.equal(field(alice!, 'Status'), '2.0.0');
  assert.equal(field(alice!, 'Diagnostic-Code'), 'X-Postfix; delivery via virtual: delivered to maildir');
  // A remote server's reply is reported as such, as Postfix's smtp client reports it.
  assert.equal(field(zed!, 'Action'), 'relayed');
  assert.equal(field(zed!, 'Remote-MTA'), 'dns; mx.remote.example');
  assert.equal(field(zed!, 'Diagnostic-Code'), 'smtp; 250 2.0.0 Ok: queued as 4XYZ');
  assert.match(top.parts![0]!.text!, /<alice@virt\.example>: delivery via virtual: delivered to maildir\n/);
  assert.match(
    top.parts![0]!.text!,
    /<zed@remote\.example>: delivery via mx\.remote\.example\[192\.0\.2\.7\]:25: 250\n {4}2\.0\.0 Ok: queued as 4XYZ\n/,
  );
  await s.waitLog(new RegExp(`${id}: sender delivery status notification: C0FFEE`));

  // No success notice for a notice (null sender); the log goes all the same.
  const id2 = await queueMessage(s.layout, {
    sender: '',
    recipients: [{ address: 'alice@virt.example' }],
    content: MESSAGE,
  });
  await logAppend(
    s.cfg,
    'trace',
    id2,
    entry('alice@virt.example', 9, { status: '2.0.0', action: 'delivered' }),
  );
  await traceFlush(s.cfg, { queue_name: 'active', queue_id: id2, sender: '' });
  assert.equal(s.cleanup.messages.length, 1);
  assert.equal(existsSync(queueFilePath(s.layout, 'trace', id2)), false);
  await s.waitLog(new RegExp(`${id2}: not sending trace/success notification for single-bounce message`));
});

test('no queue file or no cleanup: status 1 with a reason, the log stays for the next try', async (t) => {
  const s = await setup(t);
  await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'b@y' }],
    content: MESSAGE,
  });
  await logAppend(s.cfg, 'bounce', id, entry('b@y', 1));
  const target = { queue_name: 'deferred', queue_id: id, sender: 'a@virt.example' };
  await assert.rejects(bounceFlush(s.cfg, target), /deferred.*no such file/);
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), true);

  s.cleanup.status = 2;
  await assert.rejects(
    bounceFlush(s.cfg, { ...target, queue_name: 'active' }),
    /non-delivery notification: cleanup refused the notice: 4\.3\.0 queue file write error/,
  );
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), true);
  assert.equal(s.cleanup.messages.length, 0);

  s.cleanup.status = 'drop';
  await assert.rejects(
    bounceFlush(s.cfg, { ...target, queue_name: 'active' }),
    /non-delivery notification: .*cleanup/,
  );
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), true);

  s.cleanup.status = 0;
  await bounceFlush(s.cfg, { ...target, queue_name: 'active' });
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), false);
  assert.equal(s.cleanup.messages.length, 1);
  // Flushing again (a reply lost on the way) finds no log and does nothing.
  await bounceFlush(s.cfg, { ...target, queue_name: 'active' });
  assert.equal(s.cleanup.messages.length, 1);
});

test('bad requests get an error reply and a warning; the service keeps serving', async (t) => {
  const s = await setup(t);
  const child = await s.start('bounce');
  const id = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'b@y' }],
    content: MESSAGE,
  });
  await assert.rejects(logAppend(s.cfg, 'bounce', 'not/an/id', entry('b@y', 1)), /append: bad queue_id/);
  await assert.rejects(
    logAppend(s.cfg, 'bounce', id, entry('b@y', 1, { status: '9.9.9' })),
    /append: bad status/,
  );
  // warn is the defer service's request; a line that is not JSON ends that connection only.
  const path = join(s.layout.directory, 'private', 'bounce');
  await assert.rejects(
    rpcCall(path, { request: 'warn', queue_name: 'active', queue_id: id, sender: 'a@virt.example' }),
    /warn: not a request of the bounce service/,
  );
  await assert.rejects(
    rpcCall(path, { request: 'flush', queue_name: '../etc', queue_id: id, sender: '' }),
    /flush: bad queue_name/,
  );
  const raw = connect(path);
  raw.on('error', () => {});
  raw.write('this is not json\n');
  await once(raw, 'close');
  await s.waitLog(/postfix\/bounce\[\d+\]: warning: bounce: request append: append: bad status/);
  await s.waitLog(/postfix\/bounce\[\d+\]: warning: bounce: malformed request; closing connection/);
  await logAppend(s.cfg, 'bounce', id, entry('b@y', 1));
  assert.equal(child.exitCode, null);
  assert.equal(existsSync(queueFilePath(s.layout, 'bounce', id)), true);
});

test('a cleanup that never answers: the request fails after ipc_timeout and the log is usable again', async (t) => {
  const s = await setup(t, 'ipc_timeout = 1s\n');
  await s.start('bounce');
  // The client waits longer than the service, so the service's answer is seen.
  const cfg = loadMainConfig({ configDir: s.cfg.configDirectory, overrides: ['ipc_timeout=30s'] });
  const id = await queueMessage(s.layout, {
    sender: 'a@virt.example',
    recipients: [{ address: 'b@y' }],
    content: MESSAGE,
  });
  await logAppend(cfg, 'bounce', id, entry('b@y', 1));
  s.cleanup.status = 'hang';
  const target = { queue_name: 'active', queue_id: id, sender: 'a@virt.example' };
  await assert.rejects(bounceFlush(cfg, target), /non-delivery notification: cleanup: no answer in 1 s/);
  // The log was not left locked: an append still goes through, and the next flush sends both.
  await logAppend(cfg, 'bounce', id, entry('c@y', 2));
  s.cleanup.status = 0;
  await bounceFlush(cfg, target);
  const report = parse(s.cleanup.messages[0]!.content).parts![1]!;
  assert.deepEqual(
    report.blocks!.slice(1).map((b) => field(b, 'Final-Recipient')),
    ['rfc822; b@y', 'rfc822; c@y'],
  );
});

test('a service name that is none of the three, or a bad bounce parameter, is fatal at start-up', async (t) => {
  const s = await setup(t, 'bounce_size_limit = 0\n');
  const main = join(ROOT, 'dist/src/bounce/main.js');
  const env = { MAIL_CONFIG: s.cfg.configDirectory };
  const bogus = run('node', [main, '-n', 'bogus', '-t', 'unix', '-o', 'bounce_size_limit=1000'], { env });
  assert.equal(bogus.status, 1);
  assert.match(s.log(), /postfix\/bounce\[\d+\]: fatal: unknown service name "bogus"/);
  const bad = run('node', [main, '-n', 'bounce', '-t', 'unix'], { env });
  assert.equal(bad.status, 1);
  assert.match(s.log(), /postfix\/bounce\[\d+\]: fatal: invalid bounce_size_limit parameter value 0 < 1/);
});
