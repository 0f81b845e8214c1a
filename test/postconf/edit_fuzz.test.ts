/*
 * main_cf_edit properties on random main.cf text: editing a name that is not
 * there changes nothing, byte for byte; -X of a name leaves no entry of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { editMainCfText } from '../../src/global/main_cf_edit.js';
import { msg } from '../../src/global/msg.js';

// "multiple entries" warnings are expected on random input; keep the test output quiet.
msg.setSink(() => {});

const line = fc.oneof(
  fc.constantFrom('# comment', '', '   ', '\tcontinued', 'foo = 1', 'bar=2', 'foo', ' x = y'),
  fc.string({ maxLength: 20 }),
);
const mainCf = fc.array(line, { maxLength: 12 }).map((ls) => ls.join('\n'));

test('editing an absent name keeps main.cf byte for byte', () => {
  fc.assert(
    fc.property(mainCf, (text) => {
      const absent = 'zz_not_there';
      assert.equal(editMainCfText('main.cf', text, { kind: 'remove', names: new Set([absent]) }), text);
      assert.equal(editMainCfText('main.cf', text, { kind: 'comment', names: new Set([absent]) }), text);
    }),
  );
});

test('-X foo leaves no line that sets foo', () => {
  fc.assert(
    fc.property(mainCf, (text) => {
      const out = editMainCfText('main.cf', text, { kind: 'remove', names: new Set(['foo']) });
      assert.ok(!out.split('\n').some((l) => /^foo(\s|=|$)/.test(l)));
    }),
  );
});
