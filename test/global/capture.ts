/*
 * Run configuration code in-process the way a Postroom command would, and
 * collect what it says: warnings and the fatal line (msg.fatal throws
 * FatalError here instead of exiting), in a Postfix golden's layout.
 */
import { readFileSync } from 'node:fs';
import { FatalError, msg } from '../../src/global/msg.js';

export interface Outcome {
  stdout: string;
  stderr: string[];
  exit: number;
}

/** Run body as program; its return value is the stdout text. */
export function capture(program: string, body: () => string): Outcome {
  const stderr: string[] = [];
  msg.setProgram(program);
  msg.setSink((_level, line) => stderr.push(line));
  msg.setExitOnFatal(false);
  try {
    return { stdout: body(), stderr, exit: 0 };
  } catch (e) {
    if (e instanceof FatalError) return { stdout: '', stderr, exit: e.exitCode };
    throw e;
  } finally {
    msg.setSink(null);
    msg.setExitOnFatal(true);
  }
}

/** A golden recorded by test/golden/global/record.sh: "stdout:", lines, "stderr:", lines, "exit: N". */
export function readGolden(file: string, dir: string): Outcome {
  const text = readFileSync(file, 'utf8').replaceAll('$DIR', dir);
  const m = /^stdout:\n([\s\S]*?)stderr:\n([\s\S]*?)exit: (\d+)\n$/.exec(text);
  if (!m) throw new Error(`${file}: not a golden file`);
  const stderr = (m[2] ?? '').split('\n').filter((l) => l !== '');
  return { stdout: m[1] ?? '', stderr, exit: Number(m[3]) };
}
