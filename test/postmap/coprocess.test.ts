/*
 * "postmap -q -" driven as a co-process: like Postfix's, our output is
 * buffered, not flushed per answer, even when stdin is a pipe; everything
 * arrives at end of input. Checked against Postfix's postmap live.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { configDir, postfixCommand, ROOT } from '../harness/index.js';

/** Send one key, see what comes back within `waitMs`, then end input and collect the rest. */
async function converse(
  cmd: string,
  dir: string,
): Promise<{ early: string; late: string; status: number | null }> {
  const child = spawn(cmd, ['-c', dir, '-q', '-', 'inline:{a=1, b=2}'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let seen = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    seen += d;
  });
  child.stdin.write('a\n');
  await new Promise((r) => setTimeout(r, 400));
  const early = seen;
  child.stdin.end('b\nzz\n');
  const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { early, late: seen.slice(early.length), status };
}

const EXPECTED = { early: '', late: 'a\t1\nb\t2\n', status: 0 };

test('postmap -q - on a pipe answers at end of input, as Postfix', async (t) => {
  assert.deepEqual(await converse(join(ROOT, 'bin', 'postmap'), configDir(t)), EXPECTED);
});

test('live: Postfix postmap -q - does not flush per answer either', async (t: TestContext) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap) return;
  assert.deepEqual(await converse(postmap, configDir(t)), EXPECTED);
});
