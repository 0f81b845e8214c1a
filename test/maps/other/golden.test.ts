/*
 * Replays the golden postmap(1) runs recorded from Postfix 3.7 (see
 * record_golden.ts) against our bin/postmap, as a user would run it; where
 * Postfix is installed, also runs its postmap on the same case live.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { configDir, ours, postfixCommand, type Run, type run } from '../../harness/index.js';
import { type GoldenCase, readGolden, withDir, withoutDir, writeCaseFiles } from './golden.js';

const TYPES = [
  'cidr',
  'static',
  'inline',
  'unionmap',
  'pipemap',
  'randmap',
  'fail',
  'environ',
  'sequence',
  'empty',
];

function replay(
  cmd: (args: string[], input: string, env: NodeJS.ProcessEnv) => ReturnType<typeof run>,
  c: GoldenCase,
  dir: string,
) {
  writeCaseFiles(c, dir);
  const args = ['-c', dir, ...c.args.map((a) => withDir(a, dir))];
  const r = cmd(args, withDir(c.stdin ?? '', dir), { ...c.env });
  return { stdout: withoutDir(r.stdout, dir), stderr: withoutDir(r.stderr, dir), status: r.status };
}

const expected = (c: GoldenCase) => ({ stdout: c.stdout, stderr: c.stderr, status: c.status });

for (const type of TYPES) {
  describe(`${type}: golden postmap runs`, () => {
    for (const c of readGolden(type)) {
      test(`${c.name}: postmap ${c.args.join(' ')}`, (t) => {
        const dir = configDir(t, c.mainCf ?? '');
        const got = replay((a, input, env) => ours('postmap', a, { input, env }), c, dir);
        assert.deepEqual(got, expected(c));
      });
    }
  });
}

/** Run a command without blocking, so that many can run at once. */
function runAsync(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const status = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        if (err && status === null) reject(err);
        else resolve({ stdout, stderr, status });
      },
    );
    // A command that exits without reading its input is not an error here.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

test('live: Postfix still gives the recorded answers', async (t) => {
  const postmap = postfixCommand(t, 'postmap');
  if (!postmap || !existsSync(postmap)) return;
  // Postfix sleeps a second before a fatal exit: run the cases side by side.
  const runs = TYPES.flatMap((type) =>
    readGolden(type).map(async (c) => {
      const dir = configDir(t, c.mainCf ?? '');
      writeCaseFiles(c, dir);
      const args = ['-c', dir, ...c.args.map((a) => withDir(a, dir))];
      const r = await runAsync(postmap, args, withDir(c.stdin ?? '', dir), { ...c.env });
      const got = { stdout: withoutDir(r.stdout, dir), stderr: withoutDir(r.stderr, dir), status: r.status };
      assert.deepEqual(got, expected(c), `${type}: ${c.name}`);
    }),
  );
  await Promise.all(runs);
});
