/*
 * The mail log file: Postfix's line format (compared live with Postfix's
 * postlog writing maillog_file), many writers appending at once, rotation,
 * standard output, and the refusals (prefixes, symlinks, missing directory).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import {
  capLine,
  checkPrefix,
  formatLogLine,
  logHostName,
  MaillogWriter,
  maillogSink,
  mailTask,
  openMaillog,
  rotateMaillog,
  strftime,
  syslogTimestamp,
} from '../../src/global/maillog.js';
import { FatalError, msg } from '../../src/global/msg.js';
import { configDir, GOLDEN, postfixCommand, ROOT, run, tempDir } from '../harness/index.js';

const MAILLOG_JS = join(ROOT, 'dist/src/global/maillog.js');
const mask = (line: string) =>
  line.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /, 'TIMESTAMP ').replace(/\[\d+\]: /, '[PID]: ');

test('syslogTimestamp: month name, space-padded day, local time', () => {
  assert.equal(syslogTimestamp(new Date(2026, 10, 5, 9, 3, 7)), 'Nov  5 09:03:07');
  assert.equal(syslogTimestamp(new Date(2026, 0, 25, 23, 59, 59)), 'Jan 25 23:59:59');
  assert.equal(
    formatLogLine(new Date(2026, 11, 31, 0, 0, 0), 'vm', 'postfix/smtpd', 42, 'a\nb'),
    'Dec 31 00:00:00 vm postfix/smtpd[42]: a b',
  );
  assert.equal(logHostName('mail.example.com'), 'mail');
  assert.equal(logHostName('localhost'), 'localhost');
});

test('a daemon line has the shape Postfix writes into maillog_file', (t) => {
  const golden = readFileSync(join(GOLDEN, 'log/postlog-warning.txt'), 'utf8');
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  const writer = new MaillogWriter(file);
  const before = new Date();
  msg.setProgram('postfix/test');
  msg.setSink(maillogSink({ writer, host: logHostName('foo.example') }));
  try {
    msg.warn('hello world');
  } finally {
    msg.setSink(null);
    writer.close();
  }
  const line = readFileSync(file, 'utf8');
  assert.equal(mask(line), golden);
  assert.ok(line.includes(`[${process.pid}]: `));
  assert.ok(line.startsWith(syslogTimestamp(before).slice(0, 7)));

  const postlog = postfixCommand(t, 'postlog');
  if (postlog === null) return;
  // Postfix opens /dev/stdout by name, which fails on the socket Node gives a child: use a file.
  const theirs = join(dir, 'postfix.log');
  const conf = configDir(
    t,
    `maillog_file = ${theirs}\nmaillog_file_prefixes = ${dir}\nmyhostname = foo.example\n`,
  );
  const r = run(postlog, ['-c', conf, '-t', 'postfix/test', '-p', 'warning', 'hello world']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mask(readFileSync(theirs, 'utf8')), golden);
});

test('many processes append whole lines, none lost or interleaved', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  const script = join(dir, 'writer.mjs');
  writeFileSync(
    script,
    `const { MaillogWriter } = await import(${JSON.stringify(MAILLOG_JS)});
const w = new MaillogWriter(process.argv[2]);
const pad = 'x'.repeat(300);
for (let i = 0; i < 400; i++) w.write(\`p\${process.argv[3]} line \${i} \${pad} end\`);
w.close();
`,
  );
  const procs = [0, 1, 2, 3].map(
    (n) =>
      new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, [script, file, String(n)], { stdio: 'inherit' });
        c.on('close', resolve);
      }),
  );
  assert.deepEqual(await Promise.all(procs), [0, 0, 0, 0]);
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 1600);
  const seen = new Set<string>();
  for (const l of lines) {
    assert.match(l, /^p[0-3] line \d+ x{300} end$/);
    seen.add(l.slice(0, l.indexOf(' x')));
  }
  assert.equal(seen.size, 1600);
});

test('after the file is renamed away, the writer starts a new one at the old name', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  const w = new MaillogWriter(file, { rotateCheckMs: 0 });
  w.write('one');
  renameSync(file, `${file}.old`);
  w.write('two');
  w.close();
  assert.equal(readFileSync(`${file}.old`, 'utf8'), 'one\n');
  assert.equal(readFileSync(file, 'utf8'), 'two\n');
});

test('"-" and /dev/stdout write to standard output', (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'stdout.mjs');
  writeFileSync(
    script,
    `const { MaillogWriter } = await import(${JSON.stringify(MAILLOG_JS)});
for (const p of ['-', '/dev/stdout']) { const w = new MaillogWriter(p); w.write('to ' + p); w.close(); }
new MaillogWriter('-').write('y'.repeat(10000));
`,
  );
  const r = run(process.execPath, [script]);
  assert.equal(r.status, 0, r.stderr);
  // On a pipe a long line is cut to one atomic write.
  assert.equal(r.stdout, `to -\nto /dev/stdout\n${'y'.repeat(4095)}\n`);
});

test('capLine: at most 4096 bytes with the newline, never splitting a character', () => {
  assert.equal(capLine('short').toString(), 'short\n');
  const euro = capLine('a' + '\u20ac'.repeat(2000));
  assert.ok(euro.length <= 4096);
  assert.equal(euro.toString('utf8'), `a${'\u20ac'.repeat(1364)}\n`);
});

test('refusals: outside maillog_file_prefixes, symlink, missing directory; write errors said once', (t) => {
  assert.equal(checkPrefix('/var/log/postfix.log', ['/var', '/dev/stdout']), null);
  assert.equal(checkPrefix('/dev/stdout', ['/var', '/dev/stdout']), null);
  assert.equal(
    checkPrefix('/tmp/x/mail.log', ['/var', '/dev/stdout']),
    "maillog_file value '/tmp/x/mail.log' does not match any prefix in maillog_file_prefixes",
  );
  const dir = tempDir(t);
  assert.throws(
    () => new MaillogWriter(join(dir, 'no/such/mail.log')).open(),
    new RegExp(`^Error: open logfile '${dir}/no/such/mail.log': No such file or directory$`),
  );
  writeFileSync(join(dir, 'real'), '');
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  assert.throws(
    () => new MaillogWriter(join(dir, 'link')).open(),
    new RegExp(`^Error: open logfile '${dir}/link': Too many levels of symbolic links$`),
  );
  mkdirSync(join(dir, 'd'));
  const errors: string[] = [];
  const w = new MaillogWriter(join(dir, 'd'), { onError: (e) => errors.push(e) });
  w.write('a');
  w.write('b');
  assert.equal(errors.length, 1);
  assert.equal(errors[0], `open logfile '${dir}/d': Is a directory`);
  writeFileSync(join(dir, 'hard'), '');
  linkSync(join(dir, 'hard'), join(dir, 'hard2'));
  assert.throws(
    () => new MaillogWriter(join(dir, 'hard')).open(),
    new RegExp(`^Error: open logfile '${dir}/hard': not a regular file with one link$`),
  );
});

test('openMaillog: reads maillog_file and its prefixes from main.cf', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  msg.setExitOnFatal(false);
  msg.setProgram('postfix/qmgr');
  t.after(() => {
    msg.setExitOnFatal(true);
    msg.setSink(null);
  });
  const said: string[] = [];
  msg.setSink((_level, line) => said.push(line));
  const bad = loadMainConfig({ configDir: configDir(t, `maillog_file = ${file}\n`) });
  assert.throws(
    () => openMaillog(bad),
    (e: unknown) =>
      e instanceof FatalError && e.message.endsWith('does not match any prefix in maillog_file_prefixes'),
  );
  assert.deepEqual(said, [
    `postfix/qmgr: fatal: maillog_file value '${file}' does not match any prefix in maillog_file_prefixes`,
  ]);
  msg.setSink(null);
  const good = loadMainConfig({
    configDir: configDir(
      t,
      `maillog_file = ${file}\nmaillog_file_prefixes = ${dir}\nmyhostname = mx1.example\n`,
    ),
  });
  const w = openMaillog(good);
  assert.ok(w);
  msg.setProgram('postfix/qmgr');
  msg.info('ABC: removed');
  w.close();
  msg.setSink(null);
  assert.match(
    readFileSync(file, 'utf8'),
    new RegExp(`^... .\\d ..:..:.. mx1 postfix/qmgr\\[${process.pid}\\]: ABC: removed\\n$`),
  );
  assert.equal(openMaillog(loadMainConfig({ configDir: configDir(t, '') })), null);
});

test('rotateMaillog: renames with maillog_file_rotate_suffix, then compresses', async (t) => {
  assert.equal(strftime('%Y%m%d-%H%M%S', new Date(2026, 1, 3, 4, 5, 6)), '20260203-040506');
  assert.equal(strftime('%j %b %e %% %y', new Date(2026, 1, 3)), '034 Feb  3 % 26');
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  writeFileSync(file, 'old line\n');
  const cfg = loadMainConfig({
    configDir: configDir(t, `maillog_file = ${file}\nmaillog_file_prefixes = ${dir}\n`),
  });
  const rotated = await rotateMaillog(cfg, { now: new Date(2026, 1, 3, 4, 5, 6), settleMs: 0 });
  assert.equal(rotated, `${file}.20260203-040506`);
  assert.equal(existsSync(file), false);
  assert.equal(existsSync(rotated), false);
  assert.ok(existsSync(`${rotated}.gz`), 'gzip made the .gz file');
});

test('initDaemonLogging: "$syslog_name/process" into maillog_file, else syslog-format lines on stderr', (t) => {
  assert.equal(mailTask('postfix', 'smtpd'), 'postfix/smtpd');
  assert.equal(mailTask('postfix/submission', '/usr/lib/postfix/sbin/smtpd'), 'postfix/submission/smtpd');
  const dir = tempDir(t);
  const file = join(dir, 'mail.log');
  const script = join(dir, 'daemon.mjs');
  writeFileSync(
    script,
    `const { initDaemonLogging } = await import(${JSON.stringify(MAILLOG_JS)});
const { loadMainConfig } = await import(${JSON.stringify(join(ROOT, 'dist/src/global/config.js'))});
const { msg } = await import(${JSON.stringify(join(ROOT, 'dist/src/global/msg.js'))});
const cfg = loadMainConfig({ configDir: process.argv[2], overrides: process.argv.slice(3) });
initDaemonLogging(cfg, 'smtpd');
msg.info('connect from mail.example.com[192.0.2.1]');
msg.fatal('no way');
`,
  );
  const conf = configDir(t, 'myhostname = mx.example.net\n');
  const line = (name: string) =>
    new RegExp(
      `^... .\\d \\d\\d:\\d\\d:\\d\\d mx ${name}\\[\\d+\\]: connect from mail.example.com\\[192.0.2.1\\]\\n`,
    );
  const viaStderr = run(process.execPath, [script, conf]);
  assert.equal(viaStderr.status, 1);
  assert.match(viaStderr.stderr, line('postfix/smtpd'));
  assert.match(viaStderr.stderr, /postfix\/smtpd\[\d+\]: fatal: no way\n$/);
  const viaFile = run(process.execPath, [
    script,
    conf,
    `maillog_file=${file}`,
    `maillog_file_prefixes=${dir}`,
    'syslog_name=postfix/submission',
  ]);
  assert.equal(viaFile.status, 1);
  assert.equal(viaFile.stderr, '');
  const logged = readFileSync(file, 'utf8');
  assert.match(logged, line('postfix/submission/smtpd'));
  assert.match(logged, /postfix\/submission\/smtpd\[\d+\]: fatal: no way\n$/);
});

test("rotateMaillog: refusals in postfix-script's words", async (t) => {
  const dir = tempDir(t);
  const said: string[] = [];
  msg.setExitOnFatal(false);
  msg.setSink((_level, line) => said.push(line));
  const saved = msg.program;
  msg.setProgram('postfix/postfix-script');
  t.after(() => {
    msg.setExitOnFatal(true);
    msg.setSink(null);
    msg.setProgram(saved);
  });
  const attempt = async (mainCf: string) => {
    said.length = 0;
    await assert.rejects(
      rotateMaillog(loadMainConfig({ configDir: configDir(t, mainCf) }), { settleMs: 0 }),
      FatalError,
    );
    return said.join('\n');
  };
  assert.equal(
    await attempt(''),
    "postfix/postfix-script: fatal: empty 'maillog_file' parameter value - logfile rotation failed",
  );
  assert.equal(
    await attempt('maillog_file = /dev/stdout\n'),
    "postfix/postfix-script: fatal: not rotating '/dev/stdout'",
  );
  assert.match(
    await attempt(`maillog_file = ${dir}/none.log\n`),
    new RegExp(
      `^postfix/postfix-script: fatal: logfile '${dir}/none.log' rotation failed: .*No such file or directory$`,
    ),
  );
  writeFileSync(join(dir, 'm.log'), 'x\n');
  assert.match(
    await attempt(`maillog_file = ${dir}/m.log\nmaillog_file_compressor = ${dir}/no-such-gzip\n`),
    /rotation failed: .*no-such-gzip: No such file or directory$/,
  );
});
