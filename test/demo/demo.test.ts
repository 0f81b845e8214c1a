/*
 * The demo as a user runs it: configuration written, instance started,
 * a message sent with sendmail lands in the demo's mailboxes, stop works.
 * As root the demo is run by the ordinary user prtestmta (.ci/run makes it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { getpwnam, isRoot } from '../../src/master/master_user.js';
import { ROOT } from '../harness/index.js';

test('npm run demo starts an instance in one directory; sendmail mail lands in its mailboxes', async (t) => {
  let user = { name: userInfo().username, uid: userInfo().uid, gid: userInfo().gid };
  if (isRoot()) {
    const acct = getpwnam('prtestmta');
    if (!acct) {
      if (process.env.CI === 'true') throw new Error('the prtestmta account is missing (.ci/run makes it)');
      t.skip('needs the prtestmta account to run the demo as an ordinary user');
      return;
    }
    user = { name: acct.name, uid: acct.uid, gid: acct.gid };
  }
  // One hook, so the instance is stopped before its directory is removed.
  const top = mkdtempSync(join(tmpdir(), 'postroom-demo-'));
  const dir = join(top, 'instance');
  t.after(() => {
    try {
      const pid = Number(readFileSync(join(dir, 'queue/pid/master.pid'), 'utf8'));
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Never started, or stopped by the test.
    }
    rmSync(top, { recursive: true, force: true });
  });
  chmodSync(top, 0o755);
  if (isRoot()) chownSync(top, user.uid, user.gid);
  const etc = join(dir, 'etc');
  const as = (cmd: string, args: string[], input = '') =>
    spawnSync(cmd, args, {
      input,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, MAIL_CONFIG: etc },
      ...(isRoot() ? { uid: user.uid, gid: user.gid } : {}),
    });
  const r = as(process.execPath, [join(ROOT, 'dist/src/cli/demo.js'), dir]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /The instance is running/);
  assert.match(r.stdout, new RegExp(`Stop: +${ROOT}/bin/postfix -c ${etc} stop`));
  assert.match(
    readFileSync(join(etc, 'main.cf'), 'utf8'),
    new RegExp(`^queue_directory = ${dir}/queue$`, 'm'),
  );
  assert.ok(existsSync(join(etc, 'aliases.db')));

  const sendmail = join(ROOT, 'bin/sendmail');
  assert.equal(as(sendmail, ['you@demo.postroom.test'], 'Subject: hello\n\nIt works.\n').status, 0);
  assert.equal(as(sendmail, [`${user.name}@localhost`], 'Subject: local\n\nhi\n').status, 0);
  const maildir = join(dir, 'mailboxes/you/Maildir/new');
  const spool = join(dir, 'mail', user.name);
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const sentLine = /postfix\/virtual\[\d+\]: \w+: to=<you@demo\.postroom\.test>, .*status=sent/;
  const delivered = () =>
    existsSync(maildir) &&
    readdirSync(maildir).length > 0 &&
    /^hi$/m.test(read(spool)) &&
    sentLine.test(read(join(dir, 'maillog')));
  for (let i = 0; i < 200 && !delivered(); i++) await new Promise((res) => setTimeout(res, 50));
  const [file] = readdirSync(maildir);
  assert.match(readFileSync(join(maildir, file!), 'utf8'), /^Subject: hello$[\s\S]*^It works\.$/m);
  assert.match(readFileSync(spool, 'utf8'), /^Subject: local$/m);
  assert.match(read(join(dir, 'maillog')), sentLine);

  const stop = as(join(ROOT, 'bin/postfix'), ['-c', etc, 'stop']);
  assert.equal(stop.status, 0);
  assert.equal(as(join(ROOT, 'bin/postfix'), ['-c', etc, 'status']).status, 1);
});
