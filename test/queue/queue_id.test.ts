/*
 * Queue IDs: the short and long forms, validation, and the hashed
 * subdirectory a queue file goes to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadMainConfig } from '../../src/global/config.js';
import { queueFilePath, queueHashDirs, queueLayout } from '../../src/global/queue_dirs.js';
import {
  isLongQueueId,
  isQueueId,
  isShortQueueId,
  longQueueId,
  makeQueueId,
  parseQueueId,
  queueIdHashKey,
  shortQueueId,
} from '../../src/global/queue_id.js';
import { configDir, GOLDEN } from '../harness/index.js';

// The two examples in Postfix's postconf(5) for enable_long_queue_ids.
const LONG_EXAMPLE = '3Pt2mN2VXxznjll';
const SHORT_EXAMPLE = 'C3CD21F3E90';

test('the manual examples parse into time and inode', () => {
  assert.deepEqual(parseQueueId(LONG_EXAMPLE), {
    form: 'long',
    sec: 1300631508,
    usec: 353025,
    inode: 5536956n,
  });
  assert.deepEqual(parseQueueId(SHORT_EXAMPLE), { form: 'short', usec: 0xc3cd2, inode: 0x1f3e90n });
  assert.equal(longQueueId({ sec: 1300631508, usec: 353025 }, 5536956n), LONG_EXAMPLE);
  assert.equal(shortQueueId({ sec: 0, usec: 0xc3cd2 }, 0x1f3e90), SHORT_EXAMPLE);
});

test('short IDs pad the microseconds to five hex digits', () => {
  assert.equal(shortQueueId({ sec: 5, usec: 0 }, 1), '000001');
  assert.equal(shortQueueId({ sec: 5, usec: 999_999 }, 0xabc), 'F423FABC');
  assert.equal(longQueueId({ sec: 0, usec: 0 }, 0), '0000000000z0');
});

test('validation', () => {
  for (const id of [LONG_EXAMPLE, SHORT_EXAMPLE, '000001', '0000000000z0']) assert.ok(isQueueId(id), id);
  for (const id of [
    '',
    'ABCDE',
    'c3cd21f3e90',
    'C3CD2-1F3E90',
    '../etc',
    '3Pt2mN2VXxznjlz',
    '3Pt2mN2VXz1',
    'A'.repeat(65),
  ]) {
    assert.ok(!isQueueId(id), id);
  }
  // Vowels are not in the long alphabet.
  assert.ok(!isLongQueueId('3Pt2mN2VXxznjlA'));
  assert.ok(!isShortQueueId(LONG_EXAMPLE));
  assert.ok(!isLongQueueId(SHORT_EXAMPLE));
});

test('any time and inode round-trips through both forms', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: 0, max: 999_999 }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      (sec, usec, inode) => {
        const s = makeQueueId(false, { sec, usec }, inode);
        const l = makeQueueId(true, { sec, usec }, inode);
        assert.ok(isShortQueueId(s) && !isLongQueueId(s));
        assert.ok(isLongQueueId(l) && !isShortQueueId(l));
        assert.deepEqual(parseQueueId(s), { form: 'short', usec, inode });
        assert.deepEqual(parseQueueId(l), { form: 'long', sec, usec, inode });
        // Both forms hash alike.
        assert.equal(queueIdHashKey(l), queueIdHashKey(s)?.slice(0, 5));
      },
    ),
  );
});

test('hashed paths: only hash_queue_names queues, hash_queue_depth levels, microseconds in hex', (t) => {
  const dflt = queueLayout(loadMainConfig({ configDir: configDir(t, 'queue_directory = /q\n') }));
  assert.equal(queueFilePath(dflt, 'deferred', SHORT_EXAMPLE), `/q/deferred/C/${SHORT_EXAMPLE}`);
  assert.equal(queueFilePath(dflt, 'defer', SHORT_EXAMPLE), `/q/defer/C/${SHORT_EXAMPLE}`);
  assert.equal(queueFilePath(dflt, 'incoming', SHORT_EXAMPLE), `/q/incoming/${SHORT_EXAMPLE}`);
  assert.equal(queueFilePath(dflt, 'deferred', LONG_EXAMPLE), `/q/deferred/5/${LONG_EXAMPLE}`);

  const deep = queueLayout(
    loadMainConfig({
      configDir: configDir(
        t,
        'queue_directory = /q\nhash_queue_names = incoming,active deferred\nhash_queue_depth = 3\n',
      ),
    }),
  );
  assert.equal(queueFilePath(deep, 'incoming', SHORT_EXAMPLE), `/q/incoming/C/3/C/${SHORT_EXAMPLE}`);
  assert.equal(queueFilePath(deep, 'active', LONG_EXAMPLE), `/q/active/5/6/3/${LONG_EXAMPLE}`);
  assert.equal(queueFilePath(deep, 'defer', LONG_EXAMPLE), `/q/defer/${LONG_EXAMPLE}`);
  // A name that is not a queue ID hashes on itself, '_' past its end.
  assert.equal(queueHashDirs(deep, 'deferred', 'AB'), 'A/B/_');

  const flat = queueLayout(loadMainConfig({ configDir: configDir(t, 'hash_queue_depth = 0\n') }));
  assert.equal(queueHashDirs(flat, 'deferred', SHORT_EXAMPLE), '');
  assert.equal(flat.directory, '/var/spool/postfix');
  assert.equal(flat.longIds, false);
  assert.equal(
    queueLayout(loadMainConfig({ configDir: configDir(t, 'enable_long_queue_ids = yes\n') })).longIds,
    true,
  );
});

test('golden: where postsuper -s puts a file is our short ID in our hashed subdirectory', () => {
  const cases = JSON.parse(readFileSync(join(GOLDEN, 'queue/postsuper-s.json'), 'utf8')) as {
    depth: number;
    name: string;
    inode: string;
    result: string;
  }[];
  assert.equal(cases.length, 30);
  for (const c of cases) {
    const p = parseQueueId(c.name);
    assert.ok(p, c.name);
    const id = shortQueueId({ sec: 0, usec: p.usec }, BigInt(c.inode));
    const layout = { directory: '/q', hashed: new Set(['deferred']), depth: c.depth, longIds: false };
    assert.equal(queueFilePath(layout, 'deferred', id), `/q/${c.result}`, JSON.stringify(c));
  }
});
