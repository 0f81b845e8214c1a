/*
 * postlog: the lines it puts in maillog_file, compared with what Postfix
 * 3.7's postlog logged for the same commands (test/golden/admin/postlog.out).
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configDir, ours, ROOT } from '../harness/index.js';
import { golden, logLines, site } from './fixture.js';

test('postlog logs arguments or stdin lines with priority and tag as Postfix', async (t) => {
  const s = await site(t);
  const pl = (args: string[], input = '') => ours('postlog', ['-c', s.conf, ...args], { input });
  for (const r of [
    pl(['hello', 'world']),
    pl(['-p', 'warn', 'careful']),
    pl(['-p', 'error', 'bad']),
    pl(['-i', '-t', 'mytag', 'tagged']),
    pl(['-p', 'info'], 'line1\nline2\n'),
  ]) {
    assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
  }
  assert.equal(logLines(s.maillog), golden('postlog.out'));
  // A bad priority logs nothing and exits 1 (Postfix: exit 1 as well).
  const bad = pl(['-p', 'bogus', 'x']);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'postlog: fatal: unknown priority value: bogus\n');
  assert.equal(logLines(s.maillog), golden('postlog.out'));
  // fatal and panic are only words here: postlog goes on and exits 0.
  assert.equal(pl(['-p', 'fatal', 'die']).status, 0);
  assert.match(logLines(s.maillog), /postfix\/postlog: fatal: die\n$/);
});

test('without maillog_file the log line goes to stderr', (t) => {
  const conf = configDir(t, 'myhostname = box.example.com\n');
  const r = ours('postlog', ['-c', conf, 'hi there']);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d box postfix\/postlog\[\d+\]: hi there\n$/);
});

test('a user who may not write maillog_file logs through postlogd, else to stderr', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run as another user');
    return;
  }
  const s = await site(t);
  writeFileSync(s.maillog, '', { mode: 0o644 });
  for (const d of [s.dir, s.conf, s.queue, join(s.queue, 'public')]) chmodSync(d, 0o755);
  const asNobody = (text: string) =>
    spawnSync(join(ROOT, 'bin', 'postlog'), ['-c', s.conf, text], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
  // postlogd not running: the line is not lost, it goes to stderr.
  const alone = asNobody('no daemon');
  assert.deepEqual([alone.stderr, alone.status], ['postlog: no daemon\n', 0]);
  const d = spawn(process.execPath, [join(ROOT, 'dist/src/postlogd/main.js'), '-c', s.conf], {
    stdio: 'ignore',
  });
  t.after(() => {
    d.kill();
  });
  const fifo = join(s.queue, 'public', 'postlog');
  for (let i = 0; i < 200 && !existsSync(fifo); i++) await new Promise((r) => setTimeout(r, 25));
  const r = asNobody('through postlogd');
  assert.deepEqual([r.stderr, r.status], ['', 0]);
  for (let i = 0; i < 200 && !logLines(s.maillog).includes('through'); i++)
    await new Promise((res) => setTimeout(res, 25));
  assert.equal(logLines(s.maillog), 'postfix/postlog: through postlogd\n');
});
