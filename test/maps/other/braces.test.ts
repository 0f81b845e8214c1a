/*
 * The "{ ... }" primitives behind inline:, static:, unionmap:, pipemap:,
 * randmap: and cidr:{...} names, with Postfix's error words.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bracedList, listItems, unbrace } from '../../../src/maps/braces.js';
import { splitNameValue } from '../../../src/maps/inline.js';

test('unbrace strips one balanced group and the whitespace inside it', () => {
  assert.deepEqual(unbrace('{  a {b} c \t}'), { ok: true, inner: 'a {b} c' });
  assert.deepEqual(unbrace('{}'), { ok: true, inner: '' });
});

test('unbrace errors', () => {
  assert.deepEqual(unbrace('x{a}'), { ok: false, error: `no '{' at start of text in "x{a}"` });
  assert.deepEqual(unbrace('{a{b}'), { ok: false, error: `missing '}' in "{a{b}"` });
  assert.deepEqual(unbrace('{a} '), { ok: false, error: `syntax error after '}' in "{a} "` });
});

test('listItems splits at commas and whitespace, keeping groups whole', () => {
  assert.deepEqual(listItems(' a,b ,, {c, d} x{y z}w\t{'), ['a', 'b', '{c, d}', 'x{y z}w', '{']);
  assert.deepEqual(listItems(''), []);
});

test('bracedList needs one non-empty group', () => {
  assert.deepEqual(bracedList('{static:a, static:{b c}}'), ['static:a', 'static:{b c}']);
  assert.equal(bracedList('{ }'), null);
  assert.equal(bracedList('static:a'), null);
  assert.deepEqual(bracedList('{,}'), []);
});

test('name = value as split_nameval reads it', () => {
  assert.deepEqual(splitNameValue(' k = v w '), { name: 'k', value: 'v w' });
  assert.deepEqual(splitNameValue('=v'), { name: '', value: 'v' });
  assert.deepEqual(splitNameValue('k=a=b'), { name: 'k', value: 'a=b' });
  assert.equal(splitNameValue('a b=c'), "missing '=' after attribute name");
  assert.equal(splitNameValue('  '), 'no key found; expected format: key = value');
});
