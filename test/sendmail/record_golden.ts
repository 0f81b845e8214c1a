/*
 * Records test/golden/sendmail/errors.json from Postfix's own sendmail:
 *   npx tsc -p . && node dist/test/sendmail/record_golden.js
 * Each case runs /usr/sbin/sendmail with a private queue_directory. Lines
 * from postdrop (no pickup service here) are dropped; the user name and
 * uid become USER(UID) so the file does not depend on who recorded it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { GOLDEN } from '../harness/index.js';

const cases: [string, string[], string, string][] = [
  ['bad-option', ['-Z', 'a@b'], 'x\n', ''],
  ['missing-arg', ['-B'], 'x\n', ''],
  ['n-option', ['-n', 'a@b'], 'x\n', ''],
  ['bad-B', ['-Bfoo', 'a@b'], 'x\n', ''],
  ['lower-B', ['-B', '8bitmime', 'a@b'], 'x\n', ''],
  ['unsupported-b', ['-bz', 'a@b'], 'x\n', ''],
  ['no-recipients', [], 'x\n', ''],
  ['t-no-recipients', ['-t'], 'Subject: x\n\nhi\n', ''],
  ['too-big', ['a@b'], `${'a'.repeat(100)}\n`, 'message_size_limit = 20\n'],
  ['bad-N', ['-Nfoo', 'a@b'], 'x\n', ''],
  ['bad-R', ['-Rbad', 'a@b'], 'x\n', ''],
  ['long-V', ['-V', 'v'.repeat(120), 'a@b'], 'x\n', ''],
  ['never-and-success', ['-N', 'never,success', 'a@b'], 'x\n', ''],
  ['ok', ['-f', 'a@b', 'c@d'], 'x\n', ''],
];
const u = userInfo();
const out: Record<string, unknown> = {};
for (const [name, args, input, mainCf] of cases) {
  const d = mkdtempSync(join(tmpdir(), 'pfrec-'));
  mkdirSync(join(d, 'q', 'maildrop'), { recursive: true });
  writeFileSync(join(d, 'main.cf'), `queue_directory = ${d}/q\n${mainCf}`);
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(d, 'main.cf'), past, past);
  const r = spawnSync('/usr/sbin/sendmail', ['-C', d, ...args], { input, encoding: 'utf8' });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('postdrop:') && !l.includes('mail_stream_cleanup'))
    .map((l) => l.replaceAll(`${u.username}(${u.uid})`, 'USER(UID)'));
  out[name] = { args, input, mainCf, stderr, status: r.status };
  rmSync(d, { recursive: true, force: true });
}
writeFileSync(join(GOLDEN, 'sendmail', 'errors.json'), `${JSON.stringify(out, null, 2)}\n`);
