/*
 * The benchmarks' own measuring tools (bench/cpu.ts), and a small end-to-end
 * run of bench/e2e_bench.ts so that the benchmark keeps working as the
 * daemons change: five messages through each system, the table printed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CpuGroup, childrenCpu, treeCpu } from '../../bench/cpu.js';
import { ROOT } from '../harness/index.js';

// About 0.3 s of CPU in a child process.
const BURN = ['-e', 'const end = process.cpuUsage().user + 300000; while (process.cpuUsage().user < end);'];

test('childrenCpu counts what reaped children used', () => {
  const before = childrenCpu();
  const r = spawnSync(process.execPath, BURN);
  assert.equal(r.status, 0);
  const used = childrenCpu() - before;
  assert.ok(used >= 0.25 && used < 5, `children used ${used} s`);
});

test('treeCpu counts a living child of the process', async () => {
  // The child burns, says so, then stays alive until killed.
  const child = spawn(process.execPath, [
    '-e',
    `${BURN[1]} process.stdout.write('x'); setInterval(() => {}, 1000);`,
  ]);
  try {
    await new Promise((r) => child.stdout.once('data', r));
    const mine = process.cpuUsage();
    const tree = treeCpu(process.pid);
    assert.ok(tree >= (mine.user + mine.system) / 1e6 + 0.25, `tree ${tree} s`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a CpuGroup charges the processes started in it, and removes itself', async (t) => {
  const g = CpuGroup.create(`postroom-bench-test-${process.pid}`);
  if (!g) {
    // Not root, or a container without a writable cgroup tree: the benchmark falls back to treeCpu.
    t.skip('no writable cgroup');
    return;
  }
  try {
    const [cmd, ...args] = g.wrap(process.execPath, BURN) as [string, ...string[]];
    assert.equal(spawnSync(cmd, args).status, 0);
    const used = g.seconds();
    assert.ok(used >= 0.25 && used < 5, `group used ${used} s`);
  } finally {
    await g.destroy();
  }
  assert.equal(existsSync(g.dir), false);
});

test('e2e_bench delivers a few messages through each system and prints the table', async () => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(process.execPath, [
      join(ROOT, 'dist/bench/e2e_bench.js'),
      '-n',
      '5',
      '-c',
      '2',
      '-t',
      '40',
    ]);
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      text += b.toString();
    });
    child.on('close', (code) => resolve({ code, text }));
  });
  assert.equal(out.code, 0, out.text);
  assert.match(out.text, /^postroom +5\/5 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +0$/m);
  const postfix = existsSync('/usr/sbin/postfix') && process.getuid?.() === 0;
  if (postfix) {
    assert.match(out.text, /^postfix +5\/5 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +0$/m);
    assert.match(out.text, /^ratio postroom\/postfix +[\d.]+ +[\d.]+ +[\d.]+$/m);
  } else assert.match(out.text, /comparison is skipped/);
});
