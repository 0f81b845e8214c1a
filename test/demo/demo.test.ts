import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, run, tempDir } from '../harness/index.js';

test('the demo writes its configuration under one directory and shows it', (t) => {
  const dir = join(tempDir(t), 'instance');
  const r = run(process.execPath, [join(ROOT, 'dist/src/cli/demo.js'), dir]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`^queue_directory = ${dir}/queue$`, 'm'));
  assert.match(r.stdout, /^127\.0\.0\.1:2525 +inet +n +- +n +- +- +smtpd$/m);
  assert.match(r.stdout, /look up an alias\npostmaster\n/);
  assert.match(r.stdout, /nothing listens on 127\.0\.0\.1:2525 today/);
  assert.ok(existsSync(join(dir, 'etc/aliases.db')));
});
