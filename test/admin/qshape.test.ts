/*
 * qshape over a queue built from test/golden/admin/qshape-input.txt (ages
 * relative to now): the tables must be the ones Postfix's qshape printed
 * for the same messages in Postfix queue files (qshape-*.out), and, live,
 * what /usr/sbin/qshape prints now for such files.
 */

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeRecord } from '../../src/global/queue_file.js';
import { ours, postfixCommand, run } from '../harness/index.js';
import { G, golden, message, type Site, site } from './fixture.js';

interface Row {
  readonly queue: string;
  readonly age: number;
  readonly sender: string;
  readonly recipients: string[];
}

function input(): Row[] {
  return readFileSync(join(G, 'qshape-input.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [queue = '', age = '0', sender = '', ...recipients] = l.trim().split(/\s+/);
      return { queue, age: Number(age), sender: sender === '<>' ? '' : sender, recipients };
    });
}

/** Half a minute into each age's minute, as the recording did, so buckets do not flicker. */
const arrival = (now: number, age: number) => now - age * 60 - 30;

async function ourQueue(s: Site, now: number): Promise<void> {
  for (const r of input()) {
    await message(s.layout, {
      queue: r.queue,
      arrival: arrival(now, r.age),
      sender: r.sender,
      recipients: r.recipients,
    });
  }
}

const VARIANTS: readonly [string, string[]][] = [
  ['qshape-default.out', []],
  ['qshape-all.out', ['deferred', 'hold', 'incoming', 'active']],
  ['qshape-s.out', ['-s', 'incoming', 'active', 'deferred']],
  ['qshape-p.out', ['-p', '-m', '2', 'incoming', 'active', 'deferred']],
  ['qshape-l.out', ['-l', '-b', '5', '-t', '10', 'incoming', 'active', 'deferred']],
  ['qshape-w.out', ['-w', '100', 'incoming', 'active', 'deferred']],
];

test('qshape tables match Postfix 3.7 for the same logical queue', async (t) => {
  const s = await site(t);
  await ourQueue(s, Math.floor(Date.now() / 1000));
  for (const [file, args] of VARIANTS) {
    const r = ours('qshape', ['-c', s.conf, ...args]);
    assert.deepEqual({ file, ...r }, { file, stdout: golden(file), stderr: '', status: 0 });
  }
  // Absolute queue paths need no configuration.
  const abs = ours('qshape', [join(s.queue, 'incoming'), join(s.queue, 'active')]);
  assert.equal(abs.stdout, golden('qshape-default.out'));
});

test('done recipients are not counted; an empty queue shows a TOTAL of zeros (as Postfix)', async (t) => {
  const s = await site(t);
  assert.equal(
    ours('qshape', ['-c', s.conf]).stdout,
    `${' '.repeat(41)}T  5 10 20 40 80 160 320 640 1280 1280+\n${' '.repeat(34)}TOTAL  0  0  0  0  0  0   0   0   0    0     0\n`,
  );
  await message(s.layout, {
    queue: 'active',
    recipients: ['a@x.example', 'b@y.example'],
    done: ['a@x.example'],
  });
  const out = ours('qshape', ['-c', s.conf]).stdout;
  assert.match(out, /y\.example {2}1 {2}1/);
  assert.doesNotMatch(out, /x\.example/);
});

test('a bad option prints the usage and exits 255, as the script', async (t) => {
  const s = await site(t);
  const r = ours('qshape', ['-c', s.conf, '-z']);
  assert.equal(r.status, 255);
  assert.match(r.stderr, /^qshape: Unknown option: z\nUsage: qshape \[ -s \] \[ -p \]/);
  assert.equal(r.stdout, '');
});

/** A Postfix queue file as qshape reads it: C, T, S, R..., M, N, X, E. */
function postfixFile(path: string, t: number, sender: string, rcpts: readonly string[]): void {
  const body = encodeRecord(0x4e, 'hello');
  const parts = [
    encodeRecord(0x43, `${String(body.length).padStart(15)} 0 0 ${rcpts.length}`),
    encodeRecord(0x54, `${t} 0`),
    encodeRecord(0x53, sender),
    ...rcpts.map((r) => encodeRecord(0x52, r)),
    encodeRecord(0x4d, ''),
    body,
    encodeRecord(0x58, ''),
    encodeRecord(0x45, ''),
  ];
  writeFileSync(path, Buffer.concat(parts));
  chmodSync(path, 0o700);
}

test('live: Postfix qshape on Postfix files and ours on ours agree', async (t) => {
  const qshape = postfixCommand(t, 'qshape');
  if (qshape === null) return;
  const now = Math.floor(Date.now() / 1000);
  const theirs = await site(t);
  let n = 100000;
  for (const r of input()) {
    const dir = join(theirs.queue, r.queue);
    mkdirSync(dir, { recursive: true });
    postfixFile(join(dir, `A${++n}`), arrival(now, r.age), r.sender, r.recipients);
  }
  const mine = await site(t);
  await ourQueue(mine, now);
  for (const [file, args] of VARIANTS) {
    const want = run(qshape, ['-c', theirs.conf, ...args]);
    const got = ours('qshape', ['-c', mine.conf, ...args]);
    assert.deepEqual(
      { file, out: got.stdout, status: got.status },
      { file, out: want.stdout, status: want.status },
    );
  }
});
