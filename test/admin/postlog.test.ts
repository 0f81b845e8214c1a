/*
 * postlog: the lines it puts in maillog_file, compared with what Postfix
 * 3.7's postlog logged for the same commands (test/golden/admin/postlog.out).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir, ours } from '../harness/index.js';
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
