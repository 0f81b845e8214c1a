/*
 * newaliases rebuilds every table in alias_database, like Postfix's.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configDir, ours } from '../harness/index.js';

test('newaliases builds each alias_database table and stops at the first failure', (t) => {
  const dir = configDir(t);
  writeFileSync(join(dir, 'main.cf'), `alias_database = hash:${dir}/aliases, cdb:${dir}/a2\n`);
  writeFileSync(join(dir, 'aliases'), 'Root: x\n');
  writeFileSync(join(dir, 'a2'), 'postmaster: root\n');
  const r = ours('newaliases', ['-C', dir]);
  assert.deepEqual([r.status, r.stderr], [0, '']);
  assert.equal(ours('postalias', ['-c', dir, '-q', 'root', join(dir, 'aliases')]).stdout, 'x\n');
  assert.equal(ours('postalias', ['-c', dir, '-q', 'postmaster', `cdb:${dir}/a2`]).stdout, 'root\n');
  writeFileSync(join(dir, 'main.cf'), `alias_database = hash:${dir}/missing, hash:${dir}/aliases\n`);
  const bad = ours('newaliases', [], { env: { MAIL_CONFIG: dir } });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, `postalias: fatal: open ${dir}/missing: No such file or directory\n`);
});
