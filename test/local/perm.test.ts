/*
 * A Maildir or mbox file local(8) may not create (test/golden/local/perm/,
 * recorded by its record.sh from Postfix 3.7): the recipient bounces with
 * 5.2.0 and Postfix's reason, and a Maildir logs the two warnings Postfix
 * logs first ("maildir access problem for UID/GID=...", "perhaps you need
 * to create the maildirs in advance"); an mbox file that did not exist
 * "cannot create file exclusively", after the lock file warning.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN } from '../harness/index.js';
import { startLocal } from './fixture.js';

const GOLD = readFileSync(join(GOLDEN, 'local/perm/maillog.txt'), 'utf8').split('\n');

/** Postfix's local lines about one alias (its warnings, the status line), with /G as `base`. */
function postfix(alias: string, base: string): string[] {
  const status = GOLD.find((l) => l.includes(`orig_to=<${alias}>`)) ?? '';
  const pid = /local\[(\d+)\]/u.exec(status)?.[1] ?? '';
  const path = /file (\S+): /u.exec(status)?.[1] ?? '';
  const out: string[] = [];
  GOLD.forEach((l, i) => {
    if (!l.includes(`local[${pid}]: warning:`) || !l.includes(path)) return;
    out.push(l);
    // The hint follows its warning, after other processes' lines perhaps.
    const hint = GOLD.slice(i + 1).find((x) => x.includes(`local[${pid}]: warning:`));
    if (hint?.includes('perhaps you need')) out.push(hint);
  });
  return [...out, status].map((l) =>
    l
      .replace(/^.*?local\[\d+\]: (?:[0-9A-F]+: )?/u, '')
      .replace(/, delay=[^,]*, delays=[^,]*/u, '')
      .replace('@mx.example.com', '@host.example')
      .replaceAll('/G/', `${base}/`)
      .replace(/\/tmp\/\d+\.P\d+\.\w+/gu, '/tmp/NAME'),
  );
}

test('a Maildir or mbox local may not create: bounced 5.2.0 with the warnings Postfix logs', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (delivery as default_privs)');
  const lt = await startLocal(t, (q) => {
    mkdirSync(join(q.base, 'ro', 'md', 'tmp'), { recursive: true });
    mkdirSync(join(q.base, 'ro', 'md', 'new'));
    mkdirSync(join(q.base, 'ro', 'md', 'cur'));
    chmodSync(join(q.base, 'ro'), 0o755);
    chmodSync(join(q.base, 'ro', 'md', 'tmp'), 0o755);
    // An inline table has no owner: deliveries run as default_privs, as with Postfix's root-owned aliases.
    const maps = `inline:{ mdnew=${q.base}/ro/newmd/, mdtmp=${q.base}/ro/md/, mbox=${q.base}/ro/file.mbox, nodir=${q.base}/no/such/file.mbox }`;
    return `alias_maps = ${maps}\nallow_mail_to_files = alias, forward, include\ndefault_privs = nobody`;
  });
  for (const alias of ['mdnew', 'mdtmp', 'mbox', 'nodir']) {
    const before = lt.maillog().length;
    const { reply } = await lt.deliver({ recipients: [{ address: `${alias}@host.example`, orig: alias }] });
    assert.deepEqual(
      reply.results.map((r) => r.outcome),
      ['bounced'],
      alias,
    );
    const lines = lt
      .maillog()
      .slice(before)
      .split('\n')
      .filter((l) => l.includes('postfix/local['))
      .map((l) =>
        l
          .replace(/^.*?local\[\d+\]: (?:[0-9A-F]+: )?/u, '')
          .replace(/, delay=[^,]*, delays=[^,]*/u, '')
          .replace(/\/tmp\/\d+\.P\d+Q\d+\.\w+/gu, '/tmp/NAME'),
      );
    assert.deepEqual(lines, postfix(alias, lt.q.base), alias);
  }
});
