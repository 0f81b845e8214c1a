/*
 * proxy: (no proxymap daemon yet: the inner table is opened in-process)
 * must answer exactly as the inner table does and refuse listing with
 * Postfix's words; randmap must pick every value and only those.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDict } from '../../../src/maps/index.js';
import { configDir, ours } from '../../harness/index.js';

test('proxy:type:name answers as type:name does, warnings included', (t) => {
  const dir = configDir(t);
  const file = join(dir, 'client.cidr');
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

test('proxy: a table name without a type is refused', async () => {
  await assert.rejects(openDict('proxy:static'), /expecting "type:name" form instead of "static"/);
});

test('proxy: a failing inner table gives retry', async () => {
  const d = await openDict('proxy:fail:x');
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
