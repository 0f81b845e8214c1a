/*
 * postconf live comparisons: Postfix's postconf and ours on the same
 * configuration directory, for the outputs that do not depend on the host.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN, ours, postfixCommand, run, tempDir } from '../harness/index.js';
import { HOST_DEPENDENT } from './host_names.js';

const CASES = join(GOLDEN, 'postconf', 'cases');

function conf(t: Parameters<typeof tempDir>[0], name: string): string {
  const cwd = tempDir(t);
  cpSync(join(CASES, name), join(cwd, 'conf'), { recursive: true });
  return cwd;
}

const hostFree = (s: string) =>
  s
    .split('\n')
    .filter((l) => !HOST_DEPENDENT.has(l.split(' = ')[0] ?? ''))
    .join('\n');
const lines = (s: string) => s.split('\n').sort().join('\n');

test('live: postconf -d matches Postfix on host-independent parameters', (t) => {
  const pf = postfixCommand(t, 'postconf');
  if (!pf) return;
  const cwd = conf(t, 'stock');
  const theirs = run(pf, ['-c', 'conf', '-d'], { cwd });
  const mine = ours('postconf', ['-c', 'conf', '-d'], { cwd });
  assert.equal(hostFree(mine.stdout), hostFree(theirs.stdout));
  assert.equal(mine.status, theirs.status);
});

for (const args of [
  ['-n'],
  ['-nf'],
  ['-x', 'relayhost', 'mydestination', 'smtpd_timeout', 'bounce_notice_recipient'],
]) {
  test(`live: postconf ${args.join(' ')} matches Postfix`, (t) => {
    const pf = postfixCommand(t, 'postconf');
    if (!pf) return;
    const cwd = conf(t, 'basic');
    const theirs = run(pf, ['-c', 'conf', ...args], { cwd });
    const mine = ours('postconf', ['-c', 'conf', ...args], { cwd });
    assert.equal(mine.stdout, theirs.stdout);
    assert.equal(lines(mine.stderr), lines(theirs.stderr.replaceAll(`${pf}:`, 'postconf:')));
    assert.equal(mine.status, theirs.status);
  });
}

const EDITS: string[][] = [
  ['-e', 'mydestination = localhost', 'message_size_limit=0', 'new_one = x'],
  ['-X', 'mydestination', 'bogus_setting'],
  ['-#', 'mydestination', 'smtpd_timeout'],
  ['relayhost=', 'myorigin = $mydomain'],
];
for (const args of EDITS) {
  test(`live: postconf ${args.join(' ')} edits main.cf byte for byte as Postfix`, (t) => {
    const pf = postfixCommand(t, 'postconf');
    if (!pf) return;
    const a = conf(t, 'basic');
    const b = conf(t, 'basic');
    const theirs = run(pf, ['-c', 'conf', ...args], { cwd: a });
    const mine = ours('postconf', ['-c', 'conf', ...args], { cwd: b });
    assert.equal(mine.stderr, theirs.stderr.replaceAll(`${pf}:`, 'postconf:'));
    assert.equal(mine.status, theirs.status);
    assert.equal(
      readFileSync(join(b, 'conf/main.cf'), 'latin1'),
      readFileSync(join(a, 'conf/main.cf'), 'latin1'),
    );
  });
}

test('live: an edit keeps a main.cf without a final newline as Postfix does', (t) => {
  const pf = postfixCommand(t, 'postconf');
  if (!pf) return;
  const a = tempDir(t);
  const b = tempDir(t);
  for (const d of [a, b]) writeFileSync(join(d, 'main.cf'), 'x = 1\n  cont\ny = 2');
  run(pf, ['-c', a, '-e', 'x=3']);
  ours('postconf', ['-c', b, '-e', 'x=3']);
  assert.equal(readFileSync(join(b, 'main.cf'), 'latin1'), readFileSync(join(a, 'main.cf'), 'latin1'));
});
