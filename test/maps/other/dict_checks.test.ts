/*
 * The checks openDict() puts around every table (dict_checks.ts), seen by
 * a daemon-style caller: an empty value is a configuration error that
 * defers (retry) with Postfix's maps warning; table members stay quiet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msg } from '../../../src/global/msg.js';
import { openDict } from '../../../src/maps/index.js';

function capture(t: { after: (fn: () => void) => void }): string[] {
  const lines: string[] = [];
  msg.setSink((_l, line) => lines.push(line));
  t.after(() => msg.setSink(null));
  return lines;
}

test('daemons: an empty value answers retry with the maps warning, naming the title', async (t) => {
  const warnings = capture(t);
  const d = await openDict('inline:{k=, j=x}', {
    fold: true,
    dup: 'warn',
    mode: 'read',
    utf8: true,
    title: 'virtual_alias_maps',
  });
  assert.deepEqual(await d.lookup('k'), { kind: 'retry', reason: '' });
  assert.deepEqual(await d.lookup('j'), { kind: 'found', value: 'x' });
  assert.deepEqual(warnings, [
    `${msg.program}: warning: virtual_alias_maps lookup of k returns an empty string result`,
    `${msg.program}: warning: virtual_alias_maps should return NO RESULT in case of NOT FOUND`,
  ]);
});

test('daemons: without a title the table names itself; pipemap members do not warn', async (t) => {
  const warnings = capture(t);
  const d = await openDict('pipemap:{inline:{{k=}}, static:a}');
  assert.deepEqual(await d.lookup('k'), { kind: 'found', value: 'a' });
  const e = await openDict('static:{}');
  assert.deepEqual(await e.lookup('x'), { kind: 'retry', reason: '' });
  assert.deepEqual(warnings, [
    `${msg.program}: warning: static:{} lookup of x returns an empty string result`,
    `${msg.program}: warning: static:{} should return NO RESULT in case of NOT FOUND`,
  ]);
});
