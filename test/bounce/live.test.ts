/*
 * Live comparison with Postfix's postconf on a sample of the cases (the
 * whole set is in golden.test.ts): the recordings must still be what
 * Postfix prints, and ours must match it as golden.test.ts requires.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { postfixCommand, ROOT } from '../harness/index.js';
import { CASES } from './cases.js';
import { assertSameRun, readGolden, runCase } from './golden.js';

const SAMPLE = ['full', 'all-units', 'defaults-zero-days', 'leading-lines', 'missing-eof', 'undefined-name'];

test('Postfix still prints the recordings, and ours matches it', (t) => {
  const postconf = postfixCommand(t, 'postconf');
  if (postconf === null) return;
  const golden = readGolden();
  for (const name of SAMPLE) {
    const c = CASES.find((x) => x.name === name);
    assert.ok(c, name);
    for (const mode of c.modes) {
      const theirs = runCase(postconf, c, mode);
      assert.deepEqual(theirs, golden[name]?.[mode], `${name} -${mode}: recording is current`);
      assertSameRun(runCase(join(ROOT, 'bin', 'postconf'), c, mode), theirs, c, mode);
    }
  }
});
