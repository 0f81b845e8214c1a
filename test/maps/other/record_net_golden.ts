/*
 * Record test/golden/maps/{tcp,socketmap}/golden.json from Postfix 3.7:
 *   npx tsc -p . && node dist/test/maps/other/record_net_golden.js
 * Each case gets its own scripted server on 127.0.0.1 and a temporary
 * configuration directory; cases run side by side (some take 10 s).
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGolden } from './golden.js';
import { NET_CASES, type NetCase, runCase } from './net.js';

const conf = mkdtempSync(join(tmpdir(), 'postroom-golden-'));
writeFileSync(join(conf, 'main.cf'), '');
const past = new Date(Date.now() - 3600_000);
utimesSync(join(conf, 'main.cf'), past, past);
const results: NetCase[] = await Promise.all(
  NET_CASES.map(async (c) => ({ ...c, ...(await runCase('/usr/sbin/postmap', conf, c)) })),
);
rmSync(conf, { recursive: true, force: true });
for (const p of ['tcp', 'socketmap'] as const) {
  const cases = results.filter((c) => c.protocol === p);
  writeGolden(p, cases);
  console.log(`${p}: ${cases.length} cases`);
}
