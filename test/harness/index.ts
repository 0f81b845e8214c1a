/*
 * Test harness shared by every test: run our commands and Postfix's as real
 * processes, in temporary configuration directories.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/..., sources stay in place). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const GOLDEN = join(ROOT, 'test/golden');

export type Run = { stdout: string; stderr: string; status: number | null };

export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Run {
  const r = spawnSync(cmd, args, {
    input: opts.input ?? '',
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Run one of our commands (bin/<name>) as a user would. */
export function ours(name: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}): Run {
  return run(join(ROOT, 'bin', name), args, opts);
}

const POSTFIX_BIN = ['/usr/sbin', '/usr/bin'];

/**
 * The path of Postfix's own command, for live comparisons. Missing Postfix
 * skips the test on a developer machine and fails it under CI=true, where
 * .ci/run must have installed it.
 */
export function postfixCommand(t: TestContext, name: string): string | null {
  for (const dir of POSTFIX_BIN) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  if (process.env.CI === 'true') throw new Error(`Postfix's ${name} is not installed (CI must install it)`);
  t.skip(`Postfix's ${name} is not installed`);
  return null;
}

/** A fresh directory removed after the test. */
export function tempDir(t: TestContext, prefix = 'postroom-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A configuration directory holding the given main.cf (and master.cf if given). */
export function configDir(t: TestContext, mainCf = '', masterCf?: string): string {
  const dir = tempDir(t, 'postroom-conf-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.cf'), mainCf);
  if (masterCf !== undefined) writeFileSync(join(dir, 'master.cf'), masterCf);
  // Postfix's commands pause ~2 s when main.cf changed within the last second
  // (waiting for a writer to finish); an hour-old timestamp avoids that in live comparisons.
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(dir, 'main.cf'), past, past);
  return dir;
}
