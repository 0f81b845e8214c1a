/*
 * End to end with a real IMAP server: our virtual(8) delivers into a
 * Maildir that Dovecot serves, and the message read back over IMAP
 * (Python's imaplib) is the one delivered, with virtual's delivery
 * headers. Dovecot (Debian's dovecot-imapd) runs as a child process on a
 * private configuration under a temp directory, listening on a free
 * 127.0.0.1 port. Missing Dovecot skips the test, or fails it under
 * CI=true.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../harness/index.js';
import { agentHarness } from '../virtual/fixture.js';

const DOVECOT = ['/usr/sbin/dovecot', '/usr/bin/dovecot'].find((p) => existsSync(p));
const ROOT_USER = process.getuid?.() === 0;
const UID = ROOT_USER ? 65534 : (process.getuid?.() ?? 0);
const GID = ROOT_USER ? 65534 : (process.getgid?.() ?? 0);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function dovecotConf(dir: string, port: number): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

const FETCH = `import imaplib, json, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], 'secret')
typ, data = m.select('INBOX')
n = int(data[0])
typ, msg = m.fetch('1', '(RFC822)')
typ, hdr = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (RETURN-PATH X-ORIGINAL-TO DELIVERED-TO SUBJECT)])')
m.logout()
print(json.dumps({'count': n, 'rfc822': msg[0][1].decode('latin1'), 'fields': hdr[0][1].decode('latin1')}))
`;

const MESSAGE =
  'Received: by mx.example.com (Postfix, from userid 0)\n\tid 3F2A1224B42; Wed, 25 Nov 2026 10:12:24 +0000 (UTC)\n' +
  'Subject: over imap\nMessage-Id: <imap-1@mx.example.com>\nFrom: Alice <alice@example.com>\nTo: u@v.test\n\n' +
  'First line\nFrom here, unquoted in a Maildir\n.\nlast line\n';

test('a message virtual(8) delivered is read back over IMAP from Dovecot (Maildir and mbox)', async (t) => {
  if (DOVECOT === undefined) {
    if (process.env.CI === 'true')
      throw new Error('dovecot is not installed (CI must install dovecot-imapd)');
    t.skip('dovecot is not installed');
    return;
  }
  const probe = await agentHarness(t);
  const dir = join(probe.base, 'dovecot');
  const vmail = join(probe.base, 'vmail');
  mkdirSync(dir);
  mkdirSync(vmail);
  chmodSync(probe.base, 0o755);
  chmodSync(dir, 0o755);
  if (ROOT_USER) chownSync(vmail, UID, GID);
  // u@v.test reads a Maildir, m@v.test an mbox file (Dovecot keeps its indexes beside them).
  writeFileSync(
    join(dir, 'passwd'),
    `u@v.test:{PLAIN}secret:${UID}:${GID}::${vmail}/v.test/u::userdb_mail=maildir:${vmail}/v.test/u\n` +
      `m@v.test:{PLAIN}secret:${UID}:${GID}::${vmail}/v.test/m::userdb_mail=mbox:${vmail}/v.test/m:INBOX=${vmail}/v.test/m.mbox\n`,
  );
  const port = await freePort();
  writeFileSync(join(dir, 'dovecot.conf'), dovecotConf(dir, port));

  const dovecot: ChildProcess = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  dovecot.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  t.after(async () => {
    if (dovecot.exitCode === null && dovecot.signalCode === null) {
      const gone = new Promise((r) => dovecot.once('exit', r));
      dovecot.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (dovecot.exitCode === null && dovecot.signalCode === null) dovecot.kill('SIGKILL');
    }
  });
  for (let i = 0; i < 200 && !(await listening(port)); i++) {
    if (dovecot.exitCode !== null) break;
    await sleep(50);
  }
  const log = () =>
    existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '';
  assert.ok(await listening(port), `dovecot did not start: ${stderr}${log()}`);

  const h = await agentHarness(
    t,
    `virtual_mailbox_base = ${vmail}
virtual_mailbox_maps = inline:{ u@v.test=v.test/u/, m@v.test=v.test/m.mbox }
virtual_uid_maps = static:${UID}
virtual_gid_maps = static:${GID}
virtual_minimum_uid = 1`,
  );
  await h.start('virtual');
  const m = await h.queue(
    'alice@example.com',
    [{ address: 'u@v.test', orig: 'U@V.test' }, 'm@v.test'],
    MESSAGE,
  );
  const reply = await h.deliver('virtual', m);
  assert.deepEqual(
    (reply.results as { outcome: string }[]).map((r) => r.outcome),
    ['sent', 'sent'],
    h.log().join('\n'),
  );
  const files = readdirSync(join(vmail, 'v.test/u/new'));
  assert.equal(files.length, 1);
  const delivered = readFileSync(join(vmail, 'v.test/u/new', files[0] as string), 'latin1');
  const headers = 'Return-Path: <alice@example.com>\nX-Original-To: U@V.test\nDelivered-To: u@v.test\n';
  assert.equal(delivered, headers + MESSAGE);

  const r = run('python3', ['-c', FETCH, String(port), 'u@v.test'], { timeoutMs: 20_000 });
  assert.equal(r.status, 0, `${r.stderr}\n${log()}`);
  const got = JSON.parse(r.stdout) as { count: number; rfc822: string; fields: string };
  assert.equal(got.count, 1);
  // IMAP speaks CRLF; the message is otherwise the bytes delivered.
  assert.equal(got.rfc822, delivered.replace(/\n/gu, '\r\n'));
  assert.equal(
    got.fields,
    'Return-Path: <alice@example.com>\r\nX-Original-To: U@V.test\r\nDelivered-To: u@v.test\r\nSubject: over imap\r\n\r\n',
  );

  // The mbox copy: Dovecot shows the message as stored, "From " line and
  // end-of-message blank line taken off (">From " quoting stays, as in
  // every mbox reader that does not guess).
  const box = readFileSync(join(vmail, 'v.test/m.mbox'), 'latin1');
  const stored = box.slice(box.indexOf('\n') + 1).replace(/\n\n$/u, '\n');
  assert.match(stored, /^Return-Path: <alice@example\.com>\nX-Original-To: m@v\.test\n/u);
  assert.match(stored, /\n>From here, unquoted in a Maildir\n/u);
  const mb = run('python3', ['-c', FETCH, String(port), 'm@v.test'], { timeoutMs: 20_000 });
  assert.equal(mb.status, 0, `${mb.stderr}\n${log()}`);
  const gotMbox = JSON.parse(mb.stdout) as { count: number; rfc822: string; fields: string };
  assert.equal(gotMbox.count, 1);
  assert.equal(gotMbox.rfc822, stored.replace(/\n/gu, '\r\n'));
  assert.equal(
    gotMbox.fields,
    'Return-Path: <alice@example.com>\r\nX-Original-To: m@v.test\r\nDelivered-To: m@v.test\r\nSubject: over imap\r\n\r\n',
  );
});
