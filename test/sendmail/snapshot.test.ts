/*
 * sendmail started from its V8 start-up snapshot (src/sendmail/snapshot_build.ts)
 * behaves exactly as sendmail started from the ES modules; bin/sendmail
 * uses the snapshot only while it is newer than the build and than node,
 * and NODE_OPTIONS is empty.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { buildSnapshot } from '../../src/sendmail/snapshot_build.js';
import { ROOT, type Run, run, tempDir } from '../harness/index.js';
import { maildropSetup } from './fixture.js';

async function dropped(maildrop: string) {
  const files = readdirSync(maildrop);
  if (files.length === 0) return null;
  assert.equal(files.length, 1);
  const r = await openQueueFile(join(maildrop, files[0] as string));
  assert.ok(r.ok);
  const chunks: Buffer[] = [];
  for await (const b of r.file.contentBytes()) chunks.push(Buffer.from(b));
  const { sender, recipients, attributes } = r.file.envelope as unknown as Record<string, unknown>;
  await r.file.close();
  // Record offsets move with the length of the arrival time record: not compared.
  const rcpts = (recipients as { offset?: number }[]).map(({ offset: _, ...rest }) => rest);
  return { sender, recipients: rcpts, attributes, content: Buffer.concat(chunks).toString('latin1') };
}

const CASES: { name: string; args: string[]; input: string; extra?: string }[] = [
  {
    name: 'plain, with -F, -N and an address list',
    args: [
      '-F',
      'Joe Bench',
      '-N',
      'success,delay',
      '-f',
      'joe@example.com',
      'a@example.com, B <b@example.com>',
    ],
    input: 'Subject: hi\r\n\r\nline 1\n.\nnot sent\n',
  },
  {
    name: '-t with Bcc',
    args: ['-t', '-i'],
    input: 'To: x@example.com\nBcc: y@example.com\nSubject: t\n\n.\nbody\n',
  },
  { name: 'no recipients', args: [], input: 'Subject: none\n\n' },
  { name: 'bad option', args: ['-Q'], input: '' },
  { name: 'a mode needing smtpd', args: ['-bs'], input: '' },
  {
    name: 'too big',
    args: ['u@x'],
    input: `Subject: big\n\n${'x'.repeat(2000)}\n`,
    extra: 'message_size_limit = 1000',
  },
  { name: 'bad main.cf value', args: ['u@x'], input: 'x\n', extra: 'message_size_limit = ten' },
];

test('from the snapshot, sendmail queues and reports exactly as from the ES modules', async (t) => {
  const dir = tempDir(t, 'postroom-snapshot-');
  const blob = buildSnapshot(dir);
  let queued = 0;
  let refused = 0;
  for (const c of CASES) {
    const results: { r: Run; drop: Awaited<ReturnType<typeof dropped>> }[] = [];
    for (const argv of [[join(ROOT, 'dist/src/cli/sendmail.js')], ['--snapshot-blob', blob, '--']]) {
      const { conf, maildrop } = maildropSetup(t, c.extra ?? '');
      const r = run(process.execPath, [...argv, '-C', conf, ...c.args], { input: c.input });
      results.push({ r, drop: await dropped(maildrop) });
    }
    const [esm, snap] = results as [(typeof results)[0], (typeof results)[0]];
    // The configuration directory differs between the two runs; nothing else may.
    const same = (s: string) => s.replace(/\/tmp\/[^\s:]*/g, 'TMP');
    assert.equal(snap.r.status, esm.r.status, c.name);
    assert.equal(same(snap.r.stderr), same(esm.r.stderr), c.name);
    assert.equal(snap.r.stdout, esm.r.stdout, c.name);
    assert.deepEqual(snap.drop, esm.drop, c.name);
    if (snap.drop) queued++;
    if (snap.r.status !== 0) refused++;
  }
  // The cases do cover both outcomes.
  assert.equal(queued, 2);
  assert.equal(refused, CASES.length - 2);
});

test('bin/sendmail starts from the snapshot only while it is newer than the build and node', (t) => {
  // A copy of the launcher beside a dist/ of our own: its src/ is the real build, its
  // "node" a script that says how it was called.
  const dir = tempDir(t, 'postroom-launcher-');
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(ROOT, 'bin/sendmail'), join(dir, 'bin/sendmail'));
  chmodSync(join(dir, 'bin/sendmail'), 0o755);
  symlinkSync(join(ROOT, 'dist/src'), join(dir, 'dist/src'));
  const fake = join(dir, 'fake-node');
  writeFileSync(fake, '#!/bin/sh\necho "snapshot: $*"\n');
  chmodSync(fake, 0o755);
  const blob = join(dir, 'dist/sendmail.blob');
  const built = statSync(join(ROOT, 'dist/src/sendmail/run.js')).mtimeMs / 1000;
  // An inherited NODE_OPTIONS must not decide the outcome (see the case setting it).
  const quiet = { env: { NODE_OPTIONS: '' } };
  const launch = () => run(join(dir, 'bin/sendmail'), ['-bs'], quiet);
  const fromModules = (r: Run) => {
    assert.equal(r.status, 69, r.stderr);
    assert.match(r.stderr, /^sendmail: fatal: -bs: not available yet[^\n]*\n$/);
  };

  fromModules(launch()); // no blob

  writeFileSync(blob, '');
  utimesSync(blob, built + 100, built + 100);
  fromModules(launch()); // a blob, but not the name of its node

  writeFileSync(`${blob}.node`, `${fake}\n`);
  utimesSync(fake, built - 100, built - 100);
  utimesSync(blob, built + 100, built + 100);
  assert.equal(launch().stdout, `snapshot: --snapshot-blob ${dir}/bin/../dist/sendmail.blob -- -bs\n`);

  // A V8 flag in NODE_OPTIONS would make node refuse the snapshot.
  fromModules(run(join(dir, 'bin/sendmail'), ['-bs'], { env: { NODE_OPTIONS: '--max-old-space-size=200' } }));

  // Through a symbolic link, as npm installs it.
  symlinkSync(join(dir, 'bin/sendmail'), join(dir, 'link'));
  assert.match(run(join(dir, 'link'), ['x'], quiet).stdout, /^snapshot: --snapshot-blob \S+ -- x\n$/);

  utimesSync(blob, 1000, 1000); // older than the modules: a rebuild happened since
  fromModules(launch());

  utimesSync(blob, built + 100, built + 100);
  utimesSync(fake, built + 200, built + 200); // node replaced after the snapshot
  fromModules(launch());
});
