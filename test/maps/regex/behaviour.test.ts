/*
 * regexp: and pcre: tables: bounded cost on hostile keys, case folding left
 * to the table, PCRE constructs Postroom refuses, and a fuzz test.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import { msg } from '../../../src/global/msg.js';
import type { Lookup } from '../../../src/maps/dict.js';
import { openDict } from '../../../src/maps/index.js';
import { tempDir } from '../../harness/index.js';

/** Open a table written from `text`, collecting warnings. */
async function table(t: TestContext, type: string, text: string, fold = true) {
  const file = join(tempDir(t), `t.${type}`);
  writeFileSync(file, text);
  const warnings: string[] = [];
  msg.setProgram('postmap');
  msg.setSink((_l, line) => warnings.push(line));
  t.after(() => msg.setSink(null));
  const dict = await openDict(`${type}:${file}`, { fold, dup: 'warn', mode: 'read', utf8: true });
  return { file, dict, warnings };
}

const value = (r: Lookup): string | null =>
  r.kind === 'found' ? r.value : r.kind === 'notfound' ? null : 'RETRY';
const hostile = `${'a'.repeat(5000)}!`;

test('catastrophic patterns run on RE2 in linear time and give the right answer', async (t) => {
  for (const type of ['regexp', 'pcre']) {
    const { dict } = await table(t, type, '/^(a+)+$/ nested\n/^(a|aa)+$/ alternation\n/!$/ bang\n');
    assert.equal(value(await dict.lookup(hostile)), 'bang', type);
    assert.equal(value(await dict.lookup('a'.repeat(5000))), 'nested', type);
  }
});

test('a pattern that must backtrack and hits the time limit is skipped, naming file and line', async (t) => {
  const { dict, file, warnings } = await table(t, 'pcre', '/^x$/ x\n/^(?=(a+)+$)b/ lookahead\n/!$/ bang\n');
  assert.equal(value(await dict.lookup(`${'a'.repeat(40)}!`)), 'bang');
  assert.deepEqual(warnings, [`postmap: warning: pcre map ${file}, line 2: match limit exceeded`]);
  // The same rule still answers keys it can decide in time.
  assert.equal(value(await dict.lookup('x')), 'x');
  assert.equal(value(await dict.lookup('ccc!')), 'bang');
});

test('keys are not folded by the caller: the table has its own i flag', async (t) => {
  for (const type of ['regexp', 'pcre']) {
    for (const fold of [true, false]) {
      const { dict } = await table(t, type, '/^abc$/i lower\n/^ABC$/i upper\n/^mixed$/ any-case\n', fold);
      assert.equal(value(await dict.lookup('ABC')), 'upper');
      assert.equal(value(await dict.lookup('abc')), 'lower');
      assert.equal(value(await dict.lookup('MiXeD')), 'any-case');
    }
  }
});

test('keys and results that are not ASCII are matched byte by byte, as Postfix does', async (t) => {
  for (const type of ['regexp', 'pcre']) {
    // Answers recorded from Postfix 3.7: "." is one byte, "ü+" repeats the last byte of ü.
    const { dict } = await table(
      t,
      type,
      '/^(.)$/ one:$1\n/^caf(..)$/ two:$1\n/^(ü+)$/ u:$1\n/^((ü)+)$/ uu:$1\n',
    );
    assert.equal(value(await dict.lookup('é')), null);
    assert.equal(value(await dict.lookup('café')), 'two:é');
    assert.equal(value(await dict.lookup('ü')), 'u:ü');
    assert.equal(value(await dict.lookup('üü')), 'uu:üü');
    assert.equal(value(await dict.lookup('x')), 'one:x');
  }
});

test('PCRE constructs that neither RE2 nor V8 can run are refused at open, with file and line', async (t) => {
  const { dict, file, warnings } = await table(
    t,
    'pcre',
    '/(?R)/ recursion\n/(a)?(?(1)b|c)/ conditional\n/a\\Kb/ keep\n/(?|(a)|(b))/ reset\n/^ok$/ ok\n',
  );
  assert.deepEqual(
    warnings.map((w) => w.replace(/offset \d+: .*/, 'offset N')),
    [1, 2, 3, 4].map((n) => `postmap: warning: pcre map ${file}, line ${n}: error in regex at offset N`),
  );
  assert.ok(warnings.every((w) => w.endsWith('is not supported by Postroom')));
  assert.equal(value(await dict.lookup('ok')), 'ok');
  assert.equal(value(await dict.lookup('ab')), null);
});

const PIECES = [
  'a',
  'b',
  '.',
  '*',
  '+',
  '?',
  '(',
  ')',
  '|',
  '[',
  ']',
  '^',
  '$',
  '\\',
  '{',
  '}',
  ',',
  '1',
  '2',
  '-',
  ':',
  'x',
  ' ',
  '!',
  '#',
  '(?',
  '\\1',
  '[:alpha:]',
  '\\Q',
  '\\E',
  '(?=',
  '(?<',
  '>',
  "'",
];

test('fuzz: random patterns and keys never throw and never hang', async (t) => {
  const dir = tempDir(t);
  msg.setSink(() => {});
  t.after(() => msg.setSink(null));
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('regexp', 'pcre'),
      fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((a) => a.join('')),
      fc.constantFrom('', 'i', 'm', 'x', 's', 'imx', 'AEU', 'q'),
      fc.string({ maxLength: 30 }),
      async (type, pattern, flags, key) => {
        const file = join(dir, `f${n++}.${type}`);
        writeFileSync(
          file,
          `/${pattern.replaceAll('/', '\\/').replaceAll('\n', '')}/${flags} r:$1\nif /${pattern.replaceAll('/', '\\/')}/\n/./ in\nendif\n`,
        );
        const dict = await openDict(`${type}:${file}`);
        const r = await dict.lookup(key);
        assert.ok(['found', 'notfound', 'retry'].includes(r.kind));
      },
    ),
    { numRuns: 400 },
  );
});
