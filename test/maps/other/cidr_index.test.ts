/*
 * Large cidr tables of plain rules are answered from an index instead of a
 * scan; the first match must stay the first match. Random tables with
 * overlapping networks are checked against a brute-force model of "first
 * rule that contains the key", through bin/postmap, and live against
 * Postfix's postmap on the same files.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatAddress, inNetwork, parseAddress, parsePattern } from '../../../src/maps/cidr.js';
import { openDict } from '../../../src/maps/index.js';
import { configDir, ours, postfixCommand, run } from '../../harness/index.js';

/** A small deterministic generator (mulberry32), so failures reproduce. */
function rng(seed: number) {
  let a = seed;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

function randomCase(seed: number) {
  const r = rng(seed);
  const v4 = () => BigInt(((10 << 24) | (r(4) << 16) | (r(4) << 8) | r(256)) >>> 0);
  const v6 = () => (0x20010db8n << 96n) | (BigInt(r(4)) << 80n) | BigInt(r(65536));
  const rules: string[] = [];
  for (let i = 0; i < 300; i++) {
    const six = r(3) === 0;
    const bits = six ? 128 : 32;
    const len = six ? [32, 48, 64, 112, 128][r(5)]! : [8, 16, 24, 30, 32][r(5)]!;
    const addr = six ? v6() : v4();
    const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
    rules.push(`${formatAddress(addr & mask, six ? 6 : 4)}/${len}\tr${i}`);
  }
  const keys: string[] = [];
  for (let i = 0; i < 400; i++) keys.push(r(3) === 0 ? formatAddress(v6(), 6) : formatAddress(v4(), 4));
  return { rules, keys };
}

/** The model: the first rule whose network contains the key. */
function firstMatch(rules: string[], key: string): string | undefined {
  const family = key.includes(':') ? 6 : 4;
  const addr = parseAddress(key, family)!;
  for (const rule of rules) {
    const [pattern, value] = rule.split('\t');
    const net = parsePattern(pattern!);
    if (typeof net !== 'string' && inNetwork(net, family, addr)) return value;
  }
  return undefined;
}

for (const seed of [1, 2, 3]) {
  test(`random table ${seed}: first match as the model, bin/postmap and Postfix say`, async (t) => {
    const { rules, keys } = randomCase(seed);
    const dir = configDir(t);
    const file = join(dir, 'big.cidr');
    writeFileSync(file, `${rules.join('\n')}\n`);
    const expected = keys
      .map((k) => [k, firstMatch(rules, k)] as const)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}\t${v}\n`)
      .join('');
    assert.ok(expected.split('\n').length > 100, 'the keys hit many rules');
    const d = await openDict(`cidr:${file}`);
    const inProcess: string[] = [];
    for (const k of keys) {
      const res = await d.lookup(k);
      if (res.kind === 'found') inProcess.push(`${k}\t${res.value}\n`);
    }
    assert.equal(inProcess.join(''), expected);
    const input = `${keys.join('\n')}\n`;
    const r = ours('postmap', ['-c', dir, '-q', '-', `cidr:${file}`], { input });
    assert.deepEqual(r, { stdout: expected, stderr: '', status: 0 });
    const postmap = postfixCommand(t, 'postmap');
    if (postmap)
      assert.equal(run(postmap, ['-c', dir, '-q', '-', `cidr:${file}`], { input }).stdout, expected);
  });
}
