/*
 * qmgr's own log lines against Postfix 3.7's, recorded by
 * test/golden/qmgr/record.sh from a private Postfix instance: a local
 * delivery, a defer_transports message and one for a transport master.cf
 * does not have, both expiring at once (maximal_queue_lifetime = 0).
 * Ours runs the same main.cf with a fake local agent and our error(8)
 * serving retry; the lines qmgr and error write must be Postfix's,
 * message by message, once times, pids, queue IDs, sizes and delays are
 * taken out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN, postfixCommand, ROOT, run, tempDir } from '../harness/index.js';
import { harness } from './fixture.js';

const LINE = /^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ (postfix\/(?:qmgr|error))\[\d+\]: (.*)$/;

/** qmgr's and error's lines, queue IDs numbered as in `ids`, sizes and delays out. */
function normalize(lines: readonly string[], ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = LINE.exec(l);
    if (!m) continue;
    let text = m[2] as string;
    const id = /^(\w+): /.exec(text)?.[1];
    if (id !== undefined) {
      const n = ids.indexOf(id);
      if (n < 0) continue; // a notice the real bounce service queued
      text = `M${n + 1}${text.slice(id.length)}`;
    }
    text = text.replace(/size=\d+/, 'size=N').replace(/delay=[\d.]+, delays=[\d./]+/, 'delay=D');
    out.push(`${m[1]}: ${text}`);
  }
  return out;
}

test('qmgr and retry log lines as Postfix 3.7 writes them (delivered, deferred transport, no such transport, expired)', async (t) => {
  const theirs = readFileSync(join(GOLDEN, 'qmgr/maillog.txt'), 'utf8').split('\n');
  const theirIds = theirs.flatMap((l) => /postfix\/pickup\[\d+\]: (\w+): uid=/.exec(l)?.[1] ?? []);
  assert.equal(theirIds.length, 3);
  const expected = normalize(theirs, theirIds);

  const h = await harness(
    t,
    [
      'mydestination = $myhostname, localhost',
      'transport_maps = inline:{ deferme.test=slow:, nowhere.test=nosuch: }',
      'defer_transports = slow',
      'maximal_queue_lifetime = 0',
    ].join('\n'),
    'slow unix - - n - - smtp\n',
  );
  h.agent('local', () => 'sent');
  const retry = spawn(process.execPath, [join(ROOT, 'dist/src/error/main.js'), '-n', 'retry', '-t', 'unix'], {
    env: { ...process.env, MAIL_CONFIG: h.config },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  retry.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  t.after(() => {
    if (retry.exitCode === null) retry.kill('SIGKILL');
  });
  await h.waitFor('retry socket', () => {
    if (retry.exitCode !== null) throw new Error(`error(8) as retry exited ${retry.exitCode}: ${stderr}`);
    return existsSync(join(h.queueDir, 'private', 'retry'));
  });
  await h.startQmgr();
  const ids: string[] = [];
  for (const rcpt of ['nobody@mx.example.com', 'u@deferme.test', 'u@nowhere.test']) {
    const id = await h.submit('nobody@mx.example.com', [rcpt]);
    ids.push(id);
    await h.trigger('A');
    await h.waitFor(`${id} removed`, () => h.log().some((l) => l.endsWith(`${id}: removed`)));
  }
  assert.deepEqual(normalize(h.log(), ids), expected);
});

test('live: Postfix 3.7 still logs what the golden file holds (record.sh on a private instance)', async (t) => {
  const postfix = postfixCommand(t, 'postfix');
  if (postfix === null) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/unshare')) {
    t.skip('needs root and unshare(1) for a private Postfix instance');
    return;
  }
  const out = tempDir(t);
  const r = run('sh', [join(GOLDEN, 'qmgr/record.sh'), out], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const ids = (lines: string[]) =>
    lines.flatMap((l) => /postfix\/pickup\[\d+\]: (\w+): uid=/.exec(l)?.[1] ?? []);
  const live = readFileSync(join(out, 'maillog.txt'), 'utf8').split('\n');
  const golden = readFileSync(join(GOLDEN, 'qmgr/maillog.txt'), 'utf8').split('\n');
  assert.deepEqual(normalize(live, ids(live)), normalize(golden, ids(golden)));
});
