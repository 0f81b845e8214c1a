/*
 * Record test/golden/maps/fold/utf8.txt: how Postfix 3.7 (SMTPUTF8 on)
 * case-folds every non-ASCII character that has a case mapping. Each line
 * is "codepoint-in-hex TAB folded-text".
 *   npx tsc -p . && node dist/test/maps/other/record_fold_golden.js
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, run } from '../../harness/index.js';

const dir = mkdtempSync(join(tmpdir(), 'postroom-fold-'));
writeFileSync(join(dir, 'main.cf'), 'compatibility_level = 3.6\n');
const past = new Date(Date.now() - 3600_000);
utimesSync(join(dir, 'main.cf'), past, past);
const lines: string[] = [];
for (let cp = 0x80; cp < 0x30000; cp++) {
  if (cp >= 0xd800 && cp < 0xe000) continue;
  const c = String.fromCodePoint(cp);
  // A unique ASCII prefix per key keeps every entry (texthash warns on duplicates).
  if (c.toLowerCase() !== c || c.toUpperCase() !== c) lines.push(`Q${cp.toString(16)}Q${c} x`);
}
writeFileSync(join(dir, 'chars'), `${lines.join('\n')}\n`);
const r = run('/usr/sbin/postmap', ['-c', dir, '-s', `texthash:${join(dir, 'chars')}`]);
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`postmap failed: ${r.stderr}`);
const out = r.stdout
  .trim()
  .split('\n')
  .map((l) => /^q([0-9a-f]+)q(.*)\tx$/su.exec(l))
  .filter((m) => m !== null)
  .map((m) => `${m[1]}\t${m[2]}`)
  .sort((a, b) => Number.parseInt(a, 16) - Number.parseInt(b, 16));
mkdirSync(join(GOLDEN, 'maps', 'fold'), { recursive: true });
writeFileSync(join(GOLDEN, 'maps', 'fold', 'utf8.txt'), `${out.join('\n')}\n`);
console.log(`fold: ${out.length} code points`);
