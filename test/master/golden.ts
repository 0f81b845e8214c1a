/*
 * Golden cases for master.cf (postconf -M/-F/-P): each directory under
 * test/golden/master/ holds an input master.cf (and main.cf), cases.json
 * (argument lists) and expected.json recorded from Postfix 3.7.11 by
 * record_golden.ts. Paths of the temporary configuration directory are
 * stored as @CONFIG@ so that recordings do not depend on where they ran.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GOLDEN, type Run, run } from '../harness/index.js';

export const MASTER_GOLDEN = join(GOLDEN, 'master');

export interface Outcome {
  readonly args: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  /** master.cf afterwards (latin1 text), when the command changed it. */
  readonly masterCf: string | null;
}

export function caseNames(): string[] {
  return readdirSync(MASTER_GOLDEN, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function caseArgs(name: string): string[][] {
  return JSON.parse(readFileSync(join(MASTER_GOLDEN, name, 'cases.json'), 'utf8')) as string[][];
}

export function expected(name: string): Outcome[] {
  return JSON.parse(readFileSync(join(MASTER_GOLDEN, name, 'expected.json'), 'utf8')) as Outcome[];
}

/** Runs `postconf -c dir args...` somehow. */
export type Runner = (dir: string, args: readonly string[]) => Run;

/** A command, run as a process by name (Postfix names itself after argv[0]). */
export function processRunner(cmd: string): Runner {
  const env = { MAIL_CONFIG: '', PATH: `${dirname(cmd)}:${process.env.PATH ?? ''}` };
  return (dir, args) => run(basename(cmd), ['-c', dir, ...args], { cwd: dir, env });
}

/** Run `postconf -c <fresh copy of the case> args...` and describe what happened. */
export function runCase(cmd: string | Runner, name: string, args: readonly string[]): Outcome {
  const runner = typeof cmd === 'string' ? processRunner(cmd) : cmd;
  const src = join(MASTER_GOLDEN, name);
  const dir = mkdtempSync(join(tmpdir(), 'postroom-master-'));
  try {
    const main = join(src, 'main.cf');
    if (existsSync(main)) copyFileSync(main, join(dir, 'main.cf'));
    else writeFileSync(join(dir, 'main.cf'), '');
    const before = readFileSync(join(src, 'master.cf'), 'latin1');
    copyFileSync(join(src, 'master.cf'), join(dir, 'master.cf'));
    // Postfix waits until a configuration file is a second old before reading it.
    const past = new Date(Date.now() - 10_000);
    for (const f of ['main.cf', 'master.cf']) utimesSync(join(dir, f), past, past);
    const r: Run = runner(dir, args);
    const after = existsSync(join(dir, 'master.cf')) ? readFileSync(join(dir, 'master.cf'), 'latin1') : null;
    const scrub = (s: string) => s.split(dir).join('@CONFIG@');
    return {
      args,
      stdout: scrub(r.stdout),
      stderr: scrub(r.stderr),
      status: r.status,
      masterCf: after === before ? null : after,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
