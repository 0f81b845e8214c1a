/*
 * Source syntax parsers: Postfix's rules on small cases, and no input
 * (however odd) makes them throw.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseAliasEntry } from '../../../src/global/aliases.js';
import { logicalLines, parseEntry } from '../../../src/maps/table_source.js';

const lines = (text: string) => {
  const warnings: string[] = [];
  const got = [...logicalLines(text, 'src', (w) => warnings.push(w))];
  return { got, warnings };
};

test('continuation lines are appended as is; comments and blank lines inside are skipped', () => {
  const { got } = lines('a\tb\n\tc  \n # comment\n d\n\n e\nf g\r\n');
  assert.deepEqual(got, [
    { line: 1, text: 'a\tb\tc   d e' },
    { line: 7, text: 'f g' },
  ]);
});

test('an indented first line is dropped with a warning', () => {
  const { got, warnings } = lines('  lead x\na b\n');
  assert.deepEqual(got, [{ line: 2, text: 'a b' }]);
  assert.deepEqual(warnings, ['src: logical line must not start with whitespace: "  lead x"']);
});

test('keys may be quoted; the quotes stay in the key', () => {
  assert.deepEqual(parseEntry('"a b"x  y z'), { kind: 'entry', key: '"a b"x', value: 'y z' });
  assert.deepEqual(parseEntry('novalue'), {
    kind: 'error',
    warning: 'expected format: key whitespace value',
  });
  assert.deepEqual(parseEntry('"a  b'), {
    kind: 'error',
    warning: `unbalanced '"' in '"a  b' -- ignoring this line`,
  });
});

test('alias entries are normalised as postalias stores them', () => {
  const v = (s: string) => {
    const e = parseAliasEntry(s);
    return e.kind === 'entry' ? [e.key, e.value] : e.warning;
  };
  assert.deepEqual(v('"a b": x ,  y'), ['a b', 'x, y']);
  assert.deepEqual(v('foo: |"/bin/cmd arg", :include:/x'), ['foo', '|"/bin/cmd arg", :include:/x']);
  assert.deepEqual(v('u@d: x'), 'name must be local');
  assert.deepEqual(v('empty:'), 'need name:value pair');
});

test('no input makes the parsers throw', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      const { got } = lines(s);
      for (const l of got) {
        parseEntry(l.text);
        parseAliasEntry(l.text);
      }
    }),
    { numRuns: 500 },
  );
});
