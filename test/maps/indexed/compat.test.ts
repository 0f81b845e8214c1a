/*
 * Files, not just outputs: cdb files cross between Postfix and Postroom in
 * both directions; builds are atomic renames with Postfix's permissions;
 * a table older than its source is reported as Postfix reports it.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { READ_FLAGS } from '../../../src/maps/dict.js';
import { openDict } from '../../../src/maps/index.js';
import { configDir, ours, postfixCommand, run } from '../../harness/index.js';

const SOURCE = 'alpha one\nBeta two words\n"q k" three\n';

for (const nul of [[], ['-N']]) {
  test(`a cdb file built by Postfix's postmap ${nul.join(' ')} is read by ours`, (t) => {
    const postmap = postfixCommand(t, 'postmap');
    if (!postmap) return;
    const dir = configDir(t);
    writeFileSync(join(dir, 't'), SOURCE);
    assert.equal(run(postmap, ['-c', dir, ...nul, `cdb:${dir}/t`]).status, 0);
    const q = ours('postmap', ['-c', dir, '-q', '-', `cdb:${dir}/t`], {
      input: 'alpha\nBETA\n"q k"\nnone\n',
    });
    assert.equal(q.stdout, 'alpha\tone\nBETA\ttwo words\n"q k"\tthree\n');
    assert.equal(q.status, 0);
  });
}

test("a cdb file built by ours is read by Postfix's postmap", (t) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap) return;
  const dir = configDir(t);
  writeFileSync(join(dir, 't'), SOURCE);
  assert.equal(ours('postmap', ['-c', dir, `cdb:${dir}/t`]).status, 0);
  const q = run(postmap, ['-c', dir, '-q', '-', `cdb:${dir}/t`], { input: 'alpha\nbeta\nnone\n' });
  assert.equal(q.stdout, 'alpha\tone\nbeta\ttwo words\n');
});

test('a rebuild replaces the file: an open reader keeps the old table, a new one sees the new', async (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a old\n');
  assert.equal(ours('postmap', ['-c', dir, src]).status, 0);
  const before = await openDict(`hash:${src}`, READ_FLAGS);
  const inode = statSync(`${src}.db`).ino;
  writeFileSync(src, 'a new\n');
  assert.equal(ours('postmap', ['-c', dir, src]).status, 0);
  assert.notEqual(statSync(`${src}.db`).ino, inode);
  assert.deepEqual(await before.lookup('a'), { kind: 'found', value: 'old' });
  const after = await openDict(`hash:${src}`, READ_FLAGS);
  assert.deepEqual(await after.lookup('A'), { kind: 'found', value: 'new' });
  await before.close();
  await after.close();
});

test('new tables get the source group/other read bits; -p gives 0644; existing tables keep theirs', (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a b\n');
  chmodSync(src, 0o640);
  ours('postmap', ['-c', dir, src]);
  assert.equal(statSync(`${src}.db`).mode & 0o777, 0o640);
  chmodSync(src, 0o604);
  ours('postmap', ['-c', dir, src]);
  assert.equal(statSync(`${src}.db`).mode & 0o777, 0o640);
  ours('postmap', ['-c', dir, '-p', `btree:${src}2`], {});
  writeFileSync(`${src}2`, 'x y\n');
  chmodSync(`${src}2`, 0o600);
  const old = process.umask(0o022);
  process.umask(old);
  ours('postmap', ['-c', dir, '-p', `cdb:${src}2`]);
  assert.equal(statSync(`${src}2.cdb`).mode & 0o777, 0o644 & ~old);
});

test('a table older than its source (by more than 100 s) is reported, lookups still answer', (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a b\n');
  for (const type of ['hash', 'btree', 'cdb', 'lmdb']) {
    ours('postmap', ['-c', dir, `${type}:${src}`]);
    const suffix = type === 'cdb' ? '.cdb' : type === 'lmdb' ? '.lmdb' : '.db';
    const now = Date.now() / 1000;
    utimesSync(`${src}${suffix}`, now - 600, now - 600);
    utimesSync(src, now - 300, now - 300);
    const r = ours('postmap', ['-c', dir, '-q', 'a', `${type}:${src}`]);
    assert.equal(r.stdout, 'b\n');
    assert.equal(r.stderr, `postmap: warning: database ${src}${suffix} is older than source file ${src}\n`);
    utimesSync(src, now, now); // just edited: a rebuild may be running, no warning
    assert.equal(ours('postmap', ['-c', dir, '-q', 'a', `${type}:${src}`]).stderr, '');
  }
});

test('hash and btree files are told apart; foreign files are refused clearly', (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a b\n');
  ours('postmap', ['-c', dir, `hash:${src}`]);
  const r = ours('postmap', ['-c', dir, '-q', 'a', `btree:${src}`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^postmap: fatal: open database .*t\.db: Invalid argument/);
  writeFileSync(`${src}.lmdb`, readFileSync(`${src}.db`));
  const l = ours('postmap', ['-c', dir, '-q', 'a', `lmdb:${src}`]);
  assert.equal(l.status, 1);
  assert.match(l.stderr, /^postmap: fatal: open database .*t\.lmdb: Invalid argument \(not an LMDB file/);
});

test('an lmdb file made by Postfix is refused (no crash), and rebuilt by ours', (t) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap) return;
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a b\n');
  assert.equal(run(postmap, ['-c', dir, `lmdb:${src}`]).status, 0);
  const r = ours('postmap', ['-c', dir, '-q', 'a', `lmdb:${src}`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /LMDB data format 1/);
  assert.equal(ours('postmap', ['-c', dir, `lmdb:${src}`]).status, 0);
  assert.equal(ours('postmap', ['-c', dir, '-q', 'a', `lmdb:${src}`]).stdout, 'b\n');
});
