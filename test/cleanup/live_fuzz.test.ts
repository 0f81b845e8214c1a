/*
 * Random messages built from MIME-significant lines: the header and body
 * lookup keys of our postmap -h -b -m (cleanup's parser) must equal
 * Postfix's, line for line. Each case is a pair of processes, so the run
 * count stays small; the seed is printed by fast-check on failure.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { configDir, ours, postfixCommand, run } from '../harness/index.js';

const LINE = fc.constantFrom(
  '',
  'X-A: 1',
  ' folded',
  'Content-Type: multipart/mixed; boundary=b1',
  'Content-Type: multipart/alternative;',
  ' boundary="b2"',
  'Content-Type: multipart/digest; boundary=b3',
  'Content-Type: message/rfc822',
  'Content-Type: text/plain',
  'Content-Transfer-Encoding: base64',
  '--b1',
  '--b1--',
  '--b2',
  '--b2--',
  '--b3',
  '--b3--',
  '--b1x',
  'plain text',
  'not: a header? yes it is',
  'X-Long: 0123456789012345678901234567890123456789',
  '\tmore continuation text here',
  'Content-Type: message/partial',
  'CONTENT-TYPE: MULTIPART/MIXED; BOUNDARY="b2"',
  'Content-Type: multipart/mixed',
  'Content-Type: multipart/mixed; boundary=""',
  'Content-Type : message/RFC822',
  '--',
  '----',
);

test('live fuzz: lookup keys of random MIME messages equal Postfix postmap -h -b -m', (t) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap) return;
  const dir = configDir(t, 'header_size_limit = 40\nmime_boundary_length_limit = 2\n');
  const table = join(dir, 'all.pcre');
  writeFileSync(table, '/^/ K\n');
  const args = ['-c', dir, '-h', '-b', '-m', '-q', '-', `pcre:${table}`];
  fc.assert(
    fc.property(fc.array(LINE, { minLength: 1, maxLength: 30 }), (lines) => {
      const input = `${lines.join('\n')}\n`;
      const theirs = run(postmap, args, { input });
      const mine = ours('postmap', args, { input });
      assert.deepEqual(mine, theirs);
    }),
    { numRuns: 12 },
  );
});
