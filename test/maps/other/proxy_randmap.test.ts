/*
 * proxy: (no proxymap daemon: the inner table is opened in-process) must
 * answer exactly as the inner table does, refuse listing with Postfix's
 * words, and open only the tables proxy_read_maps / proxy_write_maps
 * approve; randmap must pick every value and only those.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { READ_FLAGS } from '../../../src/maps/dict.js';
import { openDict } from '../../../src/maps/index.js';
import { configDir, ours } from '../../harness/index.js';

test('proxy:type:name answers as type:name does, warnings included', (t) => {
  const dir = configDir(t);
  const file = join(dir, 'client.cidr');
  writeFileSync(join(dir, 'main.cf'), `proxy_read_maps = cidr:${file}\n`);
  writeFileSync(file, '192.0.2.0/24\tREJECT\n10.0.0.1/8\tbad\n');
  const keys = '192.0.2.7\n10.1.1.1\nnot-an-address\n';
  const direct = ours('postmap', ['-c', dir, '-q', '-', `cidr:${file}`], { input: keys });
  const proxied = ours('postmap', ['-c', dir, '-q', '-', `proxy:cidr:${file}`], { input: keys });
  assert.equal(direct.stdout, '192.0.2.7\tREJECT\n');
  assert.match(direct.stderr, /non-null host address bits/);
  assert.deepEqual(proxied, direct);
});

test('proxy: listing is refused as by Postfix', (t) => {
  const dir = configDir(t);
  const r = ours('postmap', ['-c', dir, '-s', 'proxy:inline:{a=b}']);
  assert.deepEqual(r, {
    stdout: '',
    stderr: "postmap: fatal: can't sequence maps via the proxy service\n",
    status: 1,
  });
});

test('proxy: a table missing from proxy_read_maps does not open', (t) => {
  const dir = configDir(t, 'proxy_read_maps = $virtual_alias_maps inline:{x=y}\n');
  const r = ours('postmap', ['-c', dir, '-q', 'a', 'proxy:inline:{a=b}']);
  assert.deepEqual(r, {
    stdout: '',
    stderr:
      'postmap: warning: to approve this table for read-only access, list proxy:inline:{a=b} in main.cf:proxy_read_maps\n' +
      'postmap: fatal: proxymap service is not configured for table "inline:{a=b}"\n',
    status: 1,
  });
  // Listed, with or without "proxy:", inside braces kept whole.
  for (const listed of ['inline:{a=b}', 'proxy:inline:{a=b}', 'PROXY:inline:{a=b}']) {
    writeFileSync(join(dir, 'main.cf'), `proxy_read_maps = static:x, ${listed} hash:/y\n`);
    const ok = ours('postmap', ['-c', dir, '-q', 'a', 'proxy:inline:{a=b}']);
    assert.deepEqual(ok, { stdout: 'b\n', stderr: '', status: 0 }, listed);
  }
});

test('proxy: the default proxy_read_maps approves the tables of the listed parameters', (t) => {
  const dir = configDir(t, 'virtual_alias_maps = inline:{v=w}\n');
  const r = ours('postmap', ['-c', dir, '-q', 'v', 'proxy:inline:{v=w}']);
  assert.deepEqual(r, { stdout: 'w\n', stderr: '', status: 0 });
});

test('proxy: changes need proxy_write_maps (proxywrite service)', (t) => {
  const dir = configDir(t);
  const table = join(dir, 'cache');
  writeFileSync(table, 'a 1\nb 2\n');
  assert.equal(ours('postmap', ['-c', dir, `hash:${table}`]).status, 0);
  writeFileSync(join(dir, 'main.cf'), `proxy_read_maps = hash:${table}\n`);
  const denied = ours('postmap', ['-c', dir, '-d', 'a', `proxy:hash:${table}`]);
  assert.equal(denied.status, 1);
  assert.match(
    denied.stderr,
    /postmap: fatal: proxywrite service is not configured for table "hash:.*cache"\n$/,
  );
  assert.match(denied.stderr, /list proxy:hash:.*cache in main.cf:proxy_write_maps/);
  writeFileSync(join(dir, 'main.cf'), `proxy_write_maps = proxy:hash:${table}\n`);
  const r = ours('postmap', ['-c', dir, '-d', 'a', `proxy:hash:${table}`]);
  assert.deepEqual(r, { stdout: '', stderr: '', status: 0 });
  assert.equal(ours('postmap', ['-c', dir, '-q', 'a', `hash:${table}`]).status, 1);
  assert.equal(ours('postmap', ['-c', dir, '-q', 'b', `hash:${table}`]).stdout, '2\n');
});

test('proxy: a table name without a type is refused', async () => {
  await assert.rejects(
    openDict('proxy:static', { ...READ_FLAGS, config: { get: () => '' } }),
    /expecting "type:name" form instead of "static"/,
  );
});

test('proxy: a failing inner table gives retry', async () => {
  const d = await openDict('proxy:fail:x', { ...READ_FLAGS, config: { get: () => 'proxy:fail:x' } });
  assert.deepEqual(await d.lookup('k'), { kind: 'retry', reason: 'Application error' });
});

test('randmap: every value is chosen, nothing else', async () => {
  const d = await openDict('randmap:{a, b, {c d}}');
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const r = await d.lookup(`k${i}`);
    assert.equal(r.kind, 'found');
    if (r.kind === 'found') seen.add(r.value);
  }
  assert.deepEqual([...seen].sort(), ['a', 'b', '{c d}']);
});
