import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { aliases, goldenLines, type LocalTest, startLocal } from './fixture.js';
import { testUser } from './users.js';

/** The aliases of test/golden/local/record.sh, with our paths. */
async function setup(t: import('node:test').TestContext): Promise<LocalTest | null> {
  const u1 = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u1 || !u2) return null;
  return startLocal(t, (q) => {
    const files = join(q.base, 'files');
    mkdirSync(join(q.base, 'fwd'));
    writeFileSync(join(q.base, 'incl.txt'), 'prtest2\n');
    writeFileSync(join(q.base, 'inclcmd.txt'), '"|true"\n');
    writeFileSync(join(q.base, 'fwd', 'prtest2.forward'), 'prtest1\n');
    chownSync(join(q.base, 'fwd', 'prtest2.forward'), u2.uid, u2.gid);
    const maps = aliases(
      q,
      [
        'list: prtest1, prtest2',
        'owner-list: prtest2',
        `tofile: ${files}/tofile.mbox`,
        `tomaildir: ${files}/md/`,
        `tocmd: "|cat > ${files}/cmd.out"`,
        'exit67: "|exit 67"',
        'exit75: "|echo 4.2.2 mailbox busy; exit 75"',
        'exit1: "|echo oops; exit 1"',
        'loop1: loop2',
        'loop2: loop1',
        'self: self, prtest1',
        `incl: :include:${q.base}/incl.txt`,
        'slow: "|sleep 5"',
        'sig: "|kill -TERM $$"',
        `inclmissing: :include:${q.base}/missing.txt`,
        'joe: prtest1',
        `inclcmd: :include:${q.base}/inclcmd.txt`,
        '',
      ].join('\n'),
    );
    return [
      `alias_maps = ${maps}`,
      `forward_path = ${q.base}/fwd/\${user}.forward`,
      'recipient_delimiter = +',
      'allow_mail_to_files = alias, forward, include',
      'command_time_limit = 2s',
      'propagate_unmatched_extensions = canonical, virtual, alias',
    ].join('\n');
  });
}

/** Log lines with paths, host names and queue IDs made comparable. */
function norm(lines: readonly string[], files: string): string[] {
  const base = dirname(files);
  return lines.map((l) =>
    l
      .replaceAll('mx.example.com', 'host.example')
      .replace(/\/tmp\/pfgold\.\w+\/files/gu, 'FILES')
      .replaceAll(files, 'FILES')
      .replaceAll(`${base}/`, 'BASE/')
      .replace(/forwarded as \w+/u, 'forwarded as ID')
      .replace(/\/tmp\/pfgold\.\w+\//gu, 'BASE/'),
  );
}

test('alias deliveries log as Postfix 3.7 logged the same aliases (record.sh)', async (t) => {
  const lt = await setup(t);
  if (!lt) return;
  const names = ['tofile', 'tomaildir', 'tocmd', 'exit67', 'exit75', 'exit1', 'loop1', 'self', 'Self'];
  for (const name of [...names, 'slow', 'sig', 'inclmissing', 'joe+foo', 'inclcmd']) {
    const { id } = await lt.deliver({ recipients: [{ address: `${name}@host.example`, orig: name }] });
    assert.deepEqual(norm(lt.statusLines(id), lt.files), norm(goldenLines(name), lt.files), name);
  }
  // The warnings too: alias loop, missing :include: file, command time limit.
  const warnings = (log: string) =>
    log
      .split('\n')
      .filter((l) => / postfix\/local\[\d+\]: warning: /u.test(l))
      .map((l) => l.replace(/^.*?warning: /u, ''))
      .sort();
  const golden = readFileSync(join(import.meta.dirname, '../../../test/golden/local/maillog.txt'), 'utf8');
  assert.deepEqual(norm(warnings(lt.maillog()), lt.files), norm(warnings(golden), lt.files));
  const box = readFileSync(join(lt.files, 'tofile.mbox'), 'utf8');
  assert.match(
    box,
    /\nReturn-Path: <sender@example\.com>\nX-Original-To: tofile\nDelivered-To: tofile@host\.example\n/u,
  );
  assert.equal(readdirSync(join(lt.files, 'md', 'new')).length, 1);
  const cmd = readFileSync(join(lt.files, 'cmd.out'), 'utf8');
  assert.match(
    cmd,
    /^From sender@example\.com {2}.*\nReturn-Path: <sender@example\.com>\nX-Original-To: tocmd\nDelivered-To: tocmd@host\.example\nSubject: test\n\nbody\n$/u,
  );
  if (process.getuid?.() === 0) {
    // A root-owned alias database: files and commands run as default_privs (nobody), as in Postfix.
    assert.equal(statSync(join(lt.files, 'tofile.mbox')).uid, 65534);
    assert.equal(statSync(join(lt.files, 'cmd.out')).uid, 65534);
  }
});

test('a list with an owner- alias is re-submitted with sender owner-list@$myorigin and no original recipient', async (t) => {
  const lt = await setup(t);
  if (!lt) return;
  const { id, reply } = await lt.deliver({ recipients: [{ address: 'list@host.example', orig: 'list' }] });
  assert.deepEqual(
    reply.results.map((r) => r.outcome),
    ['sent'],
    lt.maillog(),
  );
  assert.deepEqual(norm(lt.statusLines(id), lt.files), norm(goldenLines('list').slice(0, 1), lt.files));
  assert.equal(lt.resubmitted.length, 1);
  const m = lt.resubmitted[0];
  assert.equal(m?.sender, 'owner-list@host.example');
  assert.deepEqual(m?.recipients, [{ address: 'prtest1@host.example' }, { address: 'prtest2@host.example' }]);
  assert.equal(m?.content, 'Delivered-To: list@host.example\nSubject: test\n\nbody\n');
  assert.deepEqual(lt.statusLines(id)[0]?.endsWith(`forwarded as ${m?.queueId})`), true);
});

test(':include: members and .forward addresses are re-submitted with the original recipient', async (t) => {
  const lt = await setup(t);
  if (!lt) return;
  const a = await lt.deliver({ recipients: [{ address: 'incl@host.example', orig: 'incl' }] });
  assert.deepEqual(norm(lt.statusLines(a.id), lt.files), norm(goldenLines('incl').slice(0, 1), lt.files));
  assert.deepEqual(lt.resubmitted[0]?.recipients, [{ address: 'prtest2@host.example', orig: 'incl' }]);
  const b = await lt.deliver({ recipients: [{ address: 'prtest2@host.example', orig: 'prtest2' }] });
  assert.deepEqual(norm(lt.statusLines(b.id), lt.files), norm(goldenLines('prtest2').slice(0, 1), lt.files));
  assert.deepEqual(lt.resubmitted[1]?.recipients, [{ address: 'prtest1@host.example', orig: 'prtest2' }]);
  assert.equal(lt.resubmitted[1]?.content.startsWith('Delivered-To: prtest2@host.example\n'), true);
});

test('luser_relay, \\user in .forward and mailbox_command_maps log as Postfix did (record.sh, second run)', async (t) => {
  const u1 = testUser(t, 'prtest1');
  const u2 = testUser(t, 'prtest2');
  if (!u1 || !u2) return;
  const lt = await startLocal(t, (q) => {
    mkdirSync(join(q.base, 'fwd'));
    writeFileSync(join(q.base, 'fwd', 'prtest2.forward'), `\\prtest2, ${q.base}/files/fwd2.mbox\n`);
    chownSync(join(q.base, 'fwd', 'prtest2.forward'), u2.uid, u2.gid);
    return [
      `forward_path = ${q.base}/fwd/\${user}.forward`,
      'recipient_delimiter = +',
      'luser_relay = prtest2+$user',
      'mailbox_command_maps = inline:{ prtest1=/bin/false }',
    ].join('\n');
  });
  for (const name of ['ghost', 'prtest1', 'prtest2']) {
    const { id } = await lt.deliver({ recipients: [{ address: `${name}@host.example`, orig: name }] });
    assert.deepEqual(
      norm(lt.statusLines(id), lt.files),
      norm(goldenLines(name, 'maillog-2.txt'), lt.files),
      name,
    );
  }
});
