import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir, ours, postfixCommand, run } from '../harness/index.js';

// "$$" is a literal dollar: "a = $$b" does not use b, so both are unused.
test('"$$b" is not a reference to b in the unused-parameter warnings, as Postfix', (t) => {
  const real = postfixCommand(t, 'postconf');
  if (!real) return;
  const dir = configDir(t, 'a = $$b\nb = 1\nc = $$$d\nd = 2\n');
  const theirs = run(real, ['-c', dir, '-n']);
  const mine = ours('postconf', ['-c', dir, '-n']);
  assert.match(theirs.stderr, /unused parameter: b=1/);
  const theirLines = theirs.stderr.replaceAll(`${real}:`, 'postconf:').split('\n');
  assert.deepEqual(mine.stderr.split('\n').sort(), theirLines.sort());
  assert.equal(mine.stdout, theirs.stdout);
  assert.equal(mine.status, theirs.status);
});
