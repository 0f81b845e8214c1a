import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configDir, ours, ROOT, run } from '../harness/index.js';

test('a reader that goes away ends postmap quietly with the SIGPIPE status, as Postfix', (t) => {
  const dir = configDir(t);
  const table = join(dir, 'big');
  writeFileSync(table, Array.from({ length: 50_000 }, (_, i) => `key${i} value${i}\n`).join(''));
  assert.equal(ours('postmap', ['-c', dir, `hash:${table}`]).status, 0);
  const postmap = join(ROOT, 'bin/postmap');
  const r = run('bash', [
    '-c',
    `"${postmap}" -c "${dir}" -s hash:"${table}" | head -1; echo "status=\${PIPESTATUS[0]}"`,
  ]);
  assert.match(r.stdout, /^key\d+\tvalue\d+\nstatus=141\n$/);
  assert.equal(r.stderr, '');
});
