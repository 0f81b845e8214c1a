import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { aliases, startLocal } from './fixture.js';
import { testUser } from './users.js';

const asRoot = process.getuid?.() === 0;

test('command environment: message variables filtered, PATH reset, client attributes; runs as default_privs for root-owned aliases', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, `envcmd: "|env > ${q.base}/files/env.out; id -u >> ${q.base}/files/env.out"\n`);
    return `alias_maps = ${maps}\nrecipient_delimiter = +\nexport_environment = TZ POSTROOM_EXPORTED`;
  });
  const { id } = await lt.deliver({
    sender: 'odd;sender$x@example.com',
    recipients: [{ address: 'envcmd+ext@host.example', orig: 'envcmd+ext' }],
    attributes: {
      client_address: '192.0.2.1',
      client_name: 'client.example',
      helo_name: 'helo',
      sasl_username: 'u1',
    },
  });
  assert.deepEqual(lt.statusLines(id), [
    `to=<envcmd+ext@host.example>, orig_to=<envcmd+ext>, relay=local, dsn=2.0.0, status=sent (delivered to command: env > ${lt.q.base}/files/env.out; id -u >> ${lt.q.base}/files/env.out)`,
  ]);
  const lines = readFileSync(join(lt.files, 'env.out'), 'utf8').trim().split('\n');
  const env = new Map(
    lines
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.equal(env.get('PATH'), '/usr/bin:/bin');
  assert.equal(env.get('SENDER'), 'odd_sender_x@example.com');
  assert.equal(env.get('RECIPIENT'), 'envcmd+ext@host.example');
  assert.equal(env.get('ORIGINAL_RECIPIENT'), 'envcmd+ext');
  assert.equal(env.get('LOCAL'), 'envcmd+ext');
  assert.equal(env.get('USER'), 'envcmd');
  assert.equal(env.get('LOGNAME'), 'envcmd');
  assert.equal(env.get('EXTENSION'), 'ext');
  assert.equal(env.get('DOMAIN'), 'host.example');
  assert.equal(env.get('CLIENT_ADDRESS'), '192.0.2.1');
  assert.equal(env.get('CLIENT_HOSTNAME'), 'client.example');
  assert.equal(env.get('CLIENT_HELO'), 'helo');
  assert.equal(env.get('SASL_USERNAME'), 'u1');
  assert.equal(env.has('MAIL_CONFIG'), false);
  if (asRoot) assert.equal(lines.at(-1), '65534');
});

test('command_time_limit kills the command (bounce, Postfix wording); allow_mail_to_commands restricts aliases', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, 'slow: "|sleep 30"\nquick: "|true"\n');
    return `alias_maps = ${maps}\ncommand_time_limit = 1s\nallow_mail_to_commands = forward, include`;
  });
  const started = Date.now();
  const a = await lt.deliver({ recipients: ['slow@host.example'] });
  assert.ok(Date.now() - started < 10_000);
  assert.deepEqual(lt.statusLines(a.id), [
    'to=<slow@host.example>, relay=local, dsn=5.7.1, status=bounced (mail to command is restricted)',
  ]);
  const lt2 = await startLocal(
    t,
    (q) => `alias_maps = ${aliases(q, 'slow: "|sleep 30"\n')}\ncommand_time_limit = 1s`,
  );
  const b = await lt2.deliver({ recipients: ['slow@host.example'] });
  assert.deepEqual(lt2.statusLines(b.id), [
    'to=<slow@host.example>, relay=local, dsn=5.3.0, status=bounced (Command time limit exceeded: "sleep 30")',
  ]);
});

test('a deferred part keeps the recipient to do; the delivered parts are still logged', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, `mixed: ${q.base}/files/mixed.mbox, "|exit 75"\n`);
    return `alias_maps = ${maps}`;
  });
  const { id, reply } = await lt.deliver({ recipients: ['mixed@host.example'] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['deferred'],
  );
  assert.deepEqual(lt.statusLines(id), [
    `to=<mixed@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to file: ${lt.q.base}/files/mixed.mbox)`,
    'to=<mixed@host.example>, relay=local, dsn=4.3.0, status=deferred (temporary failure)',
  ]);
  assert.deepEqual(await lt.done(id), [false]);
  assert.equal(lt.logs.filter((l) => l.service === 'defer').length, 1);
});

test('mailbox_command (and _maps) runs as the recipient with $user expanded; failures map sysexits', async (t) => {
  const u = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u || !u2) return;
  const lt = await startLocal(
    t,
    (q) =>
      `mailbox_command = id -u > ${q.base}/files/mc.$user\nmailbox_command_maps = inline:{ prtest2=/bin/false }`,
  );
  const a = await lt.deliver({ recipients: ['prtest1@host.example'] });
  assert.deepEqual(lt.statusLines(a.id), [
    `to=<prtest1@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to command: id -u > ${lt.q.base}/files/mc.prtest1)`,
  ]);
  if (asRoot) assert.equal(readFileSync(join(lt.files, 'mc.prtest1'), 'utf8').trim(), String(u.uid));
  const b = await lt.deliver({ recipients: ['prtest2@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<prtest2@host.example>, relay=local, dsn=5.3.0, status=bounced (Command died with status 1: "/bin/false")',
  ]);
});

test('command_execution_directory that cannot be entered defers', async (t) => {
  const lt = await startLocal(
    t,
    (q) => `alias_maps = ${aliases(q, 'c: "|true"\n')}\ncommand_execution_directory = /nonexistent/$user`,
  );
  const { id, reply } = await lt.deliver({ recipients: ['c@host.example'] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['deferred'],
  );
  assert.match(lt.statusLines(id)[0] ?? '', /dsn=4\.3\.0, status=deferred \(/u);
});

test('local_command_shell runs every command; allow_mail_to_files and prepend_delivered_header are honoured', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, `sh: "|echo via $0 > ${q.base}/files/sh.out"\nf: ${q.base}/files/f.mbox\n`);
    return [
      `alias_maps = ${maps}`,
      'local_command_shell = /bin/bash -c',
      'allow_mail_to_files = forward',
      'prepend_delivered_header = file',
    ].join('\n');
  });
  const a = await lt.deliver({ recipients: ['sh@host.example'] });
  assert.deepEqual(
    a.reply.results.map((r) => r.outcome),
    ['sent'],
  );
  assert.equal(readFileSync(join(lt.files, 'sh.out'), 'utf8'), 'via /bin/bash\n');
  const b = await lt.deliver({ recipients: ['f@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<f@host.example>, relay=local, dsn=5.7.1, status=bounced (mail to file is restricted)',
  ]);
});

test('prepend_delivered_header without "command": no Delivered-To for commands', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, `c: "|cat > ${q.base}/files/c.out"\n`);
    return `alias_maps = ${maps}\nprepend_delivered_header = file, forward`;
  });
  await lt.deliver({ recipients: ['c@host.example'] });
  const text = readFileSync(join(lt.files, 'c.out'), 'utf8');
  assert.match(
    text,
    /\nReturn-Path: <sender@example\.com>\nX-Original-To: c@host\.example\nSubject: test\n/u,
  );
});

test('commands that ignore their input or flood their output are handled: delivered, reason text bounded', async (t) => {
  const lt = await startLocal(t, (q) => {
    const maps = aliases(q, 'deaf: "|true"\nloud: "|yes | head -c 5000000; exit 1"\n');
    return `alias_maps = ${maps}`;
  });
  const big = `Subject: big\n\n${'x'.repeat(999)}\n`.repeat(2000);
  const a = await lt.deliver({ recipients: ['deaf@host.example'], content: big });
  assert.deepEqual(
    a.reply.results.map((r) => r.outcome),
    ['sent'],
  );
  const b = await lt.deliver({ recipients: ['loud@host.example'] });
  assert.deepEqual(
    b.reply.results.map((r) => r.outcome),
    ['bounced'],
  );
  const line = lt.statusLines(b.id)[0] ?? '';
  assert.match(
    line,
    /status=bounced \(Command died with status 1: "yes \| head -c 5000000; exit 1"\. Command output: y y y /u,
  );
  assert.ok(line.length < 3000);
});

test('local_delivery_status_filter rewrites status text and may turn a defer into a bounce, never a success into a failure', async (t) => {
  const lt = await startLocal(t, (q) => {
    writeFileSync(
      join(q.base, 'filter'),
      [
        '/^5\\.1\\.1 unknown user: "(.*)"$/ 5.1.1 no mailbox here for $1',
        '/^4\\.3\\.0 temporary failure$/ 5.3.0 gave up',
        '/^2\\.0\\.0 (.*)$/ 5.0.0 nope',
        '',
      ].join('\n'),
    );
    const maps = aliases(q, 'busy: "|exit 75"\nok: "|true"\n');
    return `alias_maps = ${maps}\nlocal_delivery_status_filter = regexp:${q.base}/filter`;
  });
  const a = await lt.deliver({ recipients: ['ghost@host.example'] });
  assert.deepEqual(lt.statusLines(a.id), [
    'to=<ghost@host.example>, relay=local, dsn=5.1.1, status=bounced (no mailbox here for ghost)',
  ]);
  const b = await lt.deliver({ recipients: ['busy@host.example'] });
  assert.deepEqual(lt.statusLines(b.id), [
    'to=<busy@host.example>, relay=local, dsn=5.3.0, status=bounced (gave up)',
  ]);
  const c = await lt.deliver({ recipients: ['ok@host.example'] });
  assert.deepEqual(lt.statusLines(c.id), [
    'to=<ok@host.example>, relay=local, dsn=2.0.0, status=sent (delivered to command: true)',
  ]);
});
