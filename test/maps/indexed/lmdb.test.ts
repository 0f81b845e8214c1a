/*
 * lmdb: builds through the fast path (staged, radix-sorted, appended in one
 * transaction) give exactly what Postfix's postmap gives on the same
 * source: the same listing in key byte order, the same answers, the same
 * duplicate warnings in the same order; readers see the old table or the
 * new one, never a part.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { READ_FLAGS } from '../../../src/maps/dict.js';
import { openDict } from '../../../src/maps/index.js';
import { LmdbStage } from '../../../src/maps/store_lmdb_stage.js';
import { configDir, ours, postfixCommand, ROOT, run } from '../../harness/index.js';

/** Keys that stress the sort: shared prefixes of every length, prefixes of each other, high bytes. */
function trickyKeys(n: number, seed: number, ascii = false): string[] {
  let x = seed;
  const rnd = (m: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % m;
  };
  const alphabet = ['a', 'b', 'z', '0', '9', '-', '.', '@', '~', '_', ...(ascii ? [] : ['é', 'ü'])];
  const prefixes = [
    '',
    'user',
    'user@example',
    'postmaster@',
    'a',
    'ab',
    'abcdef',
    'abcdefg',
    'abcdefghijklm',
  ];
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    let k = prefixes[rnd(prefixes.length)]!;
    const len = rnd(14);
    for (let j = 0; j < len; j++) k += alphabet[rnd(alphabet.length)]!;
    keys.push(k === '' ? 'x' : k);
  }
  return keys;
}

const tick = () => new Promise((r) => setTimeout(r, 2));

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('the build stage lists live keys in LMDB byte order (property)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.constantFrom('abcdef', 'abcdefg', 'abcdefgh', 'abcdefghijkl'),
          ),
          fc.string({ maxLength: 5 }),
          fc.constantFrom('put', 'replace', 'delete'),
        ),
        { maxLength: 300 },
      ),
      (ops) => {
        const stage = new LmdbStage();
        const model = new Map<string, string>();
        for (const [k, v, op] of ops) {
          if (op === 'delete') {
            assert.equal(stage.delete(k), model.delete(k));
          } else if (model.has(k) && op === 'put') {
            assert.equal(stage.put(k, v, false), 'duplicate');
          } else {
            assert.equal(stage.put(k, v, op === 'replace'), 'stored');
            model.set(k, v);
          }
        }
        const { buf, offsets } = stage.sorted();
        const got = [...offsets].map((off) => {
          const klen = buf.readUInt32LE(off);
          const key = buf.toString('utf8', off + 8, off + 8 + klen);
          return [key, buf.toString('utf8', off + 8 + klen, off + 8 + klen + buf.readUInt32LE(off + 4))];
        });
        assert.deepEqual(
          got,
          [...model].sort((a, b) => byBytes(a[0], b[0])),
        );
        assert.equal(stage.size, model.size);
      },
    ),
    { numRuns: 300 },
  );
});

test('the build stage sorts big ranges (16-bit digits) and long tied prefixes', () => {
  const keys = [...new Set(trickyKeys(150_000, 7))];
  const stage = new LmdbStage();
  for (const k of keys) stage.put(k, 'v', false);
  const { buf, offsets } = stage.sorted();
  const got = [...offsets].map((off) => buf.toString('utf8', off + 8, off + 8 + buf.readUInt32LE(off)));
  assert.deepEqual(got, keys.sort(byBytes));
});

/** A source with duplicates (in all cases), bad lines and continuation lines. */
function source(keys: string[]): string {
  const lines = keys.map((k, i) => `${k} value-${i}`);
  lines.splice(10, 0, 'lonely-key', '  continued line');
  lines.push(`${keys[3]} again`, `${keys[3]!.toUpperCase()} upper`, '"unbalanced quote here');
  return `${lines.join('\n')}\n`;
}

for (const flags of [[], ['-r'], ['-w'], ['-N'], ['-f']]) {
  test(`postmap ${flags.join(' ')} lmdb: listing, answers and warnings as Postfix's`, (t) => {
    const postmap = postfixCommand(t, 'postmap');
    if (!postmap) return;
    // Each builds, lists and queries its own table: ours cannot read Postfix's LMDB (data format 1).
    const mine = { dir: configDir(t), cmd: join(ROOT, 'bin/postmap') };
    const theirs = { dir: configDir(t), cmd: postmap };
    // ASCII: Postfix shows other bytes in warnings as "?" (a msg difference, not a table one).
    const keys = trickyKeys(3000, 11 + flags.length, true);
    const queries = `${[...keys.slice(0, 500), 'missing', 'LONELY-KEY', keys[3]!.toUpperCase()].join('\n')}\n`;
    const results = [mine, theirs].map(({ dir, cmd }) => {
      writeFileSync(join(dir, 't'), source(keys));
      const table = `lmdb:${join(dir, 't')}`;
      const fix = (r: ReturnType<typeof run>) => ({ ...r, stderr: r.stderr.replaceAll(dir, 'DIR') });
      return {
        build: fix(run(cmd, ['-c', dir, ...flags, table])),
        list: fix(run(cmd, ['-c', dir, '-s', table])),
        query: fix(
          run(cmd, ['-c', dir, ...flags.filter((f) => f !== '-r'), '-q', '-', table], { input: queries }),
        ),
      };
    });
    assert.deepEqual(results[0], results[1]);
    if (flags.length === 0 || flags[0] === '-f') assert.match(results[0]!.build.stderr, /duplicate entry/);
    assert.ok(results[0]!.list.stdout.split('\n').length > 2500);
  });
}

test('a rebuild replaces the table in place; a reader open across it answers from the new table', async (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'keep old\ngone x\n');
  assert.equal(ours('postmap', ['-c', dir, `lmdb:${src}`]).status, 0);
  const reader = await openDict(`lmdb:${src}`, READ_FLAGS);
  assert.deepEqual(await reader.lookup('keep'), { kind: 'found', value: 'old' });
  writeFileSync(src, 'keep new\nadded y\n');
  assert.equal(ours('postmap', ['-c', dir, `lmdb:${src}`]).status, 0);
  await tick(); // lmdb-js takes a new read snapshot after a timer tick
  assert.deepEqual(await reader.lookup('keep'), { kind: 'found', value: 'new' });
  assert.deepEqual(await reader.lookup('gone'), { kind: 'notfound' });
  assert.deepEqual(await reader.lookup('added'), { kind: 'found', value: 'y' });
  await reader.close();
});

test('a reader polling during a big rebuild sees the whole old table or the whole new one', async (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a old\n');
  assert.equal(ours('postmap', ['-c', dir, `lmdb:${src}`]).status, 0);
  const rows = Array.from({ length: 200_000 }, (_, i) => `k${i.toString(36).padStart(5, '0')} v${i}`);
  writeFileSync(src, `a new\n${rows.join('\n')}\nzzz last\n`);
  const reader = await openDict(`lmdb:${src}`, READ_FLAGS);
  const child = spawn(join(ROOT, 'bin/postmap'), ['-c', dir, `lmdb:${src}`], { stdio: 'ignore' });
  const done = new Promise<number | null>((r) => child.on('exit', r));
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  const seen = new Set<string>();
  for (;;) {
    // The lookups between two timer ticks share one read snapshot.
    const a = await reader.lookup('a');
    const last = await reader.lookup('zzz');
    const middle = await reader.lookup('k01000');
    assert.equal(a.kind, 'found');
    const state = a.kind === 'found' ? a.value : '';
    assert.equal(last.kind === 'found', state === 'new', 'last key present exactly in the new table');
    assert.equal(middle.kind === 'found', state === 'new', 'middle key present exactly in the new table');
    seen.add(state);
    if (exited) break;
    await tick();
  }
  assert.equal(await done, 0);
  await tick();
  assert.deepEqual(await reader.lookup('a'), { kind: 'found', value: 'new' });
  assert.ok(seen.has('old'), 'the reader polled before the commit');
  await reader.close();
});

test('-N builds keys with a null byte; lookups learn the form, -n does not find them', (t) => {
  const dir = configDir(t);
  const src = join(dir, 't');
  writeFileSync(src, 'a 1\nb 2\n');
  assert.equal(ours('postmap', ['-c', dir, '-N', `lmdb:${src}`]).status, 0);
  const q = (flags: string[], input: string) =>
    ours('postmap', ['-c', dir, ...flags, '-q', '-', `lmdb:${src}`], { input }).stdout;
  assert.equal(q([], 'x\na\nb\n'), 'a\t1\nb\t2\n');
  assert.equal(q(['-N'], 'a\n'), 'a\t1\n');
  assert.equal(q(['-n'], 'a\n'), '');
  assert.equal(ours('postmap', ['-c', dir, '-s', `lmdb:${src}`]).stdout, 'a\t1\nb\t2\n');
});
