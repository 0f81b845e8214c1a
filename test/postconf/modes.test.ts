/*
 * postconf modes where Postroom deliberately says what Postroom supports
 * (not what Postfix was built with), host-dependent values, and the one edit
 * where we do not copy a Postfix bug.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dictTypes } from '../../src/maps/index.js';
import { configDir, ours } from '../harness/index.js';

test('-m lists exactly the table types of this build', (t) => {
  const dir = configDir(t);
  const r = ours('postconf', ['-c', dir, '-m']);
  assert.equal(
    r.stdout,
    dictTypes()
      .map((d) => `${d}\n`)
      .join(''),
  );
  assert.ok(r.stdout.includes('hash\n') && r.stdout.includes('regexp\n'));
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('-m needs main.cf, -l -a -A do not', () => {
  const m = ours('postconf', ['-c', '/nonexistent/dir', '-m']);
  assert.equal(m.stderr, 'postconf: fatal: open /nonexistent/dir/main.cf: No such file or directory\n');
  assert.equal(m.status, 1);
  for (const [flag, out] of [
    ['-l', 'dotlock\n'],
    ['-a', ''],
    ['-A', ''],
  ] as const) {
    const r = ours('postconf', ['-c', '/nonexistent/dir', flag]);
    assert.deepEqual([r.stdout, r.stderr, r.status], [out, '', 0], flag);
  }
});

test('-T reports the OpenSSL that Node carries; a bad mode is an error', (t) => {
  const dir = configDir(t);
  for (const mode of ['compile-version', 'run-version']) {
    const r = ours('postconf', ['-c', dir, '-T', mode]);
    assert.equal(r.stdout, `OpenSSL ${process.versions.openssl}\n`);
    assert.equal(r.status, 0);
  }
  const k = ours('postconf', ['-c', dir, '-T', 'public-key-algorithms']);
  assert.match(k.stdout, /^(dsa\n)?ecdsa\nrsa\n$/);
  const bad = ours('postconf', ['-c', dir, '-T', 'nonsense']);
  assert.deepEqual(
    [bad.stdout, bad.stderr, bad.status],
    ['', "postconf: warning: unknown 'postconf -T' mode: nonsense\n", 1],
  );
});

// -b and -t (bounce templates) are tested in test/bounce/.

test('-e appends after a last line without newline on a line of its own (Postfix glues them)', (t) => {
  const dir = configDir(t, 'a = 1');
  const r = ours('postconf', ['-c', dir, '-e', 'b=2', 'c = 3']);
  assert.equal(r.status, 0);
  assert.equal(readFileSync(join(dir, 'main.cf'), 'latin1'), 'a = 1\nb = 2\nc = 3\n');
});

test('-e leaves no temporary file behind and keeps other entries byte for byte', (t) => {
  const dir = configDir(t);
  writeFileSync(join(dir, 'main.cf'), 'x\t=  1 \n# c\ny = 2\n');
  ours('postconf', ['-c', dir, 'y=3']);
  assert.equal(readFileSync(join(dir, 'main.cf'), 'latin1'), 'x\t=  1 \n# c\ny = 3\n');
  assert.throws(() => readFileSync(join(dir, 'main.cf.tmp')));
});

test('host-dependent defaults: myhostname and mydomain from this host', (t) => {
  const dir = configDir(t);
  const r = ours('postconf', ['-c', dir, '-dh', 'myhostname', 'mydomain', 'process_id']);
  const [host, domain, pid] = r.stdout.split('\n');
  const expected = hostname().includes('.') ? hostname() : `${hostname()}.localdomain`;
  assert.equal(host, expected);
  assert.equal(domain, expected.slice(expected.indexOf('.') + 1));
  assert.match(pid ?? '', /^\d+$/);
});
