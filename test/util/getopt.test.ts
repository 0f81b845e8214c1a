import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getopt } from '../../src/util/getopt.js';

test('options stop at the first operand, as Postfix commands parse them', () => {
  const r = getopt(['-c', '/tmp/x', '-dn', 'mail_version', '-d'], 'c:dno:');
  assert.deepEqual(r, {
    kind: 'ok',
    opts: [{ opt: 'c', arg: '/tmp/x' }, { opt: 'd' }, { opt: 'n' }],
    operands: ['mail_version', '-d'],
  });
});

test('attached arguments and "--"', () => {
  const r = getopt(['-oa=b', '--', '-x'], 'o:');
  assert.deepEqual(r, { kind: 'ok', opts: [{ opt: 'o', arg: 'a=b' }], operands: ['-x'] });
});

test('errors in glibc words', () => {
  assert.equal((getopt(['-Z'], 'c:') as { message: string }).message, "invalid option -- 'Z'");
  assert.equal((getopt(['-c'], 'c:') as { message: string }).message, "option requires an argument -- 'c'");
});
