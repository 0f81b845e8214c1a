#!/usr/bin/env node
/*
 * build-native - compile sendmail's C fast path into dist/sendmail-fast
 *
 * Run by "npm run build" after tsc. The fast path is optional: with no C
 * compiler, or one that cannot build it (no C library headers), this says
 * so in one line, removes any older binary and exits 0: bin/sendmail then
 * runs Node, as before. Under CI the tests require the binary, so a real
 * compile error still fails there (.ci/run installs gcc). The binary is
 * written under a temporary name and renamed, so a sendmail starting
 * meanwhile never runs a half-written file. See docs/sendmail.md.
 *
 * It also compiles the mailbox lock addon (src/local/native/lock.c) into
 * dist/native/lock.node, by the same rules: without it mailbox deliveries
 * lock through a perl helper process instead. See docs/local.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/sendmail/fast/sendmail_fast.c');
const out = join(root, 'dist/sendmail-fast');
const tmp = `${out}.${process.pid}.tmp`;
const cc = process.env.CC || 'cc';

buildLockAddon();

/** dist/native/lock.node, or one line saying why not (and no older addon left behind). */
function buildLockAddon() {
  const src = join(root, 'src/local/native/lock.c');
  const out = join(root, 'dist/native/lock.node');
  const tmp = `${out}.${process.pid}.tmp`;
  const include = [join(dirname(process.execPath), '../include/node'), '/usr/include/node'].find((d) =>
    existsSync(join(d, 'node_api.h')),
  );
  mkdirSync(dirname(out), { recursive: true });
  const r = include
    ? spawnSync(cc, ['-std=c99', '-O2', '-Wall', '-shared', '-fPIC', `-I${include}`, '-o', tmp, src], {
        stdio: ['ignore', 'inherit', 'inherit'],
      })
    : undefined;
  if (!r || r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    rmSync(out, { force: true });
    const why = !r ? 'no node_api.h' : r.error ? `no C compiler (${cc})` : `${cc} failed on ${src}`;
    console.log(`build-native: ${why}: mailboxes are locked through a perl helper`);
    return;
  }
  renameSync(tmp, out);
}

mkdirSync(dirname(out), { recursive: true });
const r = spawnSync(cc, ['-std=c99', '-O2', '-Wall', '-o', tmp, src], { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error) {
  rmSync(out, { force: true });
  console.log(`build-native: no C compiler (${cc}): sendmail runs without its fast path`);
  process.exit(0);
}
if (r.status !== 0) {
  // No usable compiler (no C library headers...) or a bug: never leave an old binary to be tested.
  rmSync(tmp, { force: true });
  rmSync(out, { force: true });
  console.log(`build-native: ${cc} failed on ${src}: sendmail runs without its fast path`);
  process.exit(0);
}
renameSync(tmp, out);
