/*
 * Record test/golden/queue/postsuper-s.json from Postfix's postsuper -s:
 *   npx tsc -p . && node dist/test/queue/record_golden.js   (as root)
 * Each case puts one file, named for a given time and its real inode, flat
 * in deferred/, lets postsuper rename and rehash it, and records where it
 * went: Postfix's own choice of short queue ID and hashed subdirectory.
 */
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { longQueueId, shortQueueId } from '../../src/global/queue_id.js';
import { GOLDEN } from '../harness/index.js';

export interface PostsuperCase {
  /** hash_queue_depth */
  depth: number;
  /** The name we gave the file (before the inode part is corrected by postsuper). */
  name: string;
  inode: string;
  /** Where postsuper put it, relative to the queue directory. */
  result: string;
}
export const GOLDEN_FILE = join(GOLDEN, 'queue/postsuper-s.json');

const TIMES = [
  { sec: 1_300_631_508, usec: 353_025 },
  { sec: 1_700_000_000, usec: 0 },
  { sec: 1_700_000_001, usec: 1 },
  { sec: 1_800_000_000, usec: 999_999 },
  { sec: 52 ** 6, usec: 65_535 },
];

function one(depth: number, form: 'long' | 'short', t: (typeof TIMES)[number]): PostsuperCase {
  const top = mkdtempSync(join(tmpdir(), 'postroom-rec-'));
  try {
    const q = join(top, 'q');
    for (const d of [
      'maildrop',
      'incoming',
      'active',
      'deferred',
      'hold',
      'corrupt',
      'bounce',
      'defer',
      'trace',
      'flush',
      'saved',
    ]) {
      mkdirSync(join(q, d), { recursive: true });
    }
    const conf = join(top, 'conf');
    mkdirSync(conf);
    writeFileSync(join(conf, 'main.cf'), `queue_directory = ${q}\nhash_queue_depth = ${depth}\n`);
    utimesSync(join(conf, 'main.cf'), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    const tmp = join(q, 'deferred', 'tmp');
    writeFileSync(tmp, 'x\n');
    const inode = BigInt(statSync(tmp).ino);
    // A short name with a wrong inode part: postsuper must fix the inode and keep the time.
    const name = form === 'long' ? longQueueId(t, inode) : shortQueueId(t, inode + 1n);
    spawnSync('mv', [tmp, join(q, 'deferred', name)]);
    const uid = Number(spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim());
    spawnSync('chown', ['-R', String(uid), top]);
    chownSync(top, uid, -1);
    const r = spawnSync('/usr/sbin/postsuper', ['-c', conf, '-s'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const found = readdirSync(q, { withFileTypes: true, recursive: true }).filter((e) => e.isFile());
    if (found.length !== 1 || found[0] === undefined)
      throw new Error(`expected one file, got ${found.length}`);
    return {
      depth,
      name,
      inode: String(inode),
      result: relative(q, join(found[0].parentPath, found[0].name)),
    };
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

const cases: PostsuperCase[] = [];
for (const depth of [1, 2, 3]) {
  for (const t of TIMES) {
    cases.push(one(depth, 'long', t));
    cases.push(one(depth, 'short', t));
  }
}
writeFileSync(GOLDEN_FILE, `${JSON.stringify(cases, null, 1)}\n`);
process.stdout.write(`${cases.length} cases recorded in ${GOLDEN_FILE}\n`);
