/*
 * Inline regexp and pcre tables (Postfix 3.7): "regexp:{ {rule}, {rule} }"
 * reads each braced rule as one line of a file. Answers and errors are
 * compared live with Postfix's postmap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir, ours, postfixCommand, run } from '../../harness/index.js';

const CASES: [string, string][] = [
  ['Subject: spam today', 'regexp:{ {/^Subject: spam/ REJECT no spam}, {/^X/ DISCARD} }'],
  ['X-Mailer: y', 'regexp:{ {/^Subject: spam/ REJECT no spam}, {/^X/ DISCARD} }'],
  ['user@example.com', 'pcre:{ {/^(.*)@example\\.com$/ $1@example.net} }'],
  ['nothing', 'pcre:{ {/^a/ b} }'],
  ['a', 'regexp:{ /a/ b }'],
  ['a', 'regexp:{ {/a/ b}, {/c/ d} '],
  ['a', 'regexp:{}'],
  ['a', 'pcre:{ {/a/ b} x }'],
];

/**
 * What each case prints even without Postfix to compare with; undefined:
 * a fatal error. An empty inline table is not found (exit 1), silently.
 */
const ANSWERS: (string | undefined)[] = [
  'REJECT no spam\n',
  'DISCARD\n',
  'user@example.net\n',
  '',
  undefined,
  undefined,
  '',
  undefined,
];

test('inline regexp and pcre tables answer and fail as Postfix', (t) => {
  const pf = postfixCommand(t, 'postmap');
  const conf = configDir(t);
  for (const [i, [key, table]] of CASES.entries()) {
    const mine = ours('postmap', ['-c', conf, '-q', key, table]);
    const answer = ANSWERS[i];
    if (answer !== undefined) assert.equal(mine.stdout, answer, table);
    else assert.match(mine.stderr, /^postmap: fatal: (regexp|pcre) map: /, table);
    if (pf === null) continue;
    const theirs = run(pf, ['-c', conf, '-q', key, table]);
    assert.deepEqual(
      [mine.status, mine.stdout, mine.stderr],
      [theirs.status, theirs.stdout, theirs.stderr],
      `${key} in ${table}`,
    );
  }
});
