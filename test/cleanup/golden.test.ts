/*
 * Which lines header_checks/mime_header_checks/nested_header_checks and
 * body_checks see: our postmap -h/-b/-m (cleanup's parser) against
 * transcripts recorded from Postfix 3.7, and live against Postfix.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ours, postfixCommand, run, tempDir } from '../harness/index.js';
import { CASES, goldenPath, transcript } from './cases.js';

for (const c of CASES) {
  test(`lookup keys golden: ${c.name}`, (t) => {
    const got = transcript(c, join(tempDir(t), 'c'), (args) => ours('postmap', args, { input: c.message }));
    assert.equal(got, readFileSync(goldenPath(c), 'utf8'));
  });
}

test('lookup keys live: every case against Postfix postmap', (t) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap) return;
  for (const c of CASES) {
    const theirs = transcript(c, join(tempDir(t), 'p'), (args) => run(postmap, args, { input: c.message }));
    const mine = transcript(c, join(tempDir(t), 'o'), (args) => ours('postmap', args, { input: c.message }));
    assert.equal(mine, theirs, c.name);
  }
});
