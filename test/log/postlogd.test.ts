/*
 * postlogd: lines from many client processes reach maillog_file whole;
 * without postlogd a client falls back; hostile input stays bounded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { MaillogWriter } from '../../src/global/maillog.js';
import { msg } from '../../src/global/msg.js';
import { postlogSink } from '../../src/postlogd/client.js';
import { postlogPath, startPostlogd } from '../../src/postlogd/postlogd.js';
import { configDir, ROOT, run, tempDir } from '../harness/index.js';

/** Polls until the file has n lines (postlogd writes asynchronously). */
async function lines(file: string, n: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {}
    const got = text.split('\n').slice(0, -1);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

test('postlogPath is $queue_directory/public/postlog', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t, 'queue_directory = /q\n') });
  assert.equal(postlogPath(cfg), '/q/public/postlog');
});

test('client processes log through postlogd into maillog_file', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'postlog');
  const file = join(dir, 'mail.log');
  const writer = new MaillogWriter(file);
  const d = startPostlogd({ fifoPath: fifo, writer });
  t.after(() => {
    d.close();
    writer.close();
  });
  const script = join(dir, 'client.mjs');
  writeFileSync(
    script,
    `const { postlogSink } = await import(${JSON.stringify(join(ROOT, 'dist/src/postlogd/client.js'))});
const { msg } = await import(${JSON.stringify(join(ROOT, 'dist/src/global/msg.js'))});
msg.setProgram('postfix/sendmail');
msg.setSink(postlogSink({ fifoPath: process.argv[2], host: 'mx', fallback: () => process.exit(3) }));
for (let i = 0; i < 200; i++) msg.info('client ' + process.argv[3] + ' line ' + i + ' ' + 'z'.repeat(100));
msg.fatal('done');
`,
  );
  const codes = await Promise.all(
    [0, 1, 2].map(
      (n) =>
        new Promise<number | null>((resolve) => {
          spawn(process.execPath, [script, fifo, String(n)], { stdio: 'inherit' }).on('close', resolve);
        }),
    ),
  );
  assert.deepEqual(codes, [1, 1, 1]);
  const got = await lines(file, 603);
  assert.equal(got.length, 603);
  for (const l of got) {
    assert.match(
      l,
      /^\w{3} [ \d]\d \d\d:\d\d:\d\d mx postfix\/sendmail\[\d+\]: (client \d line \d+ z{100}|fatal: done)$/,
    );
  }
  for (const n of [0, 1, 2]) {
    // Each client's lines arrive in its own order.
    const mine = got
      .filter((l) => l.includes(`client ${n} line`))
      .map((l) => Number(/line (\d+)/.exec(l)![1]));
    assert.deepEqual(mine, [...Array(200).keys()]);
  }
});

test('without postlogd the client falls back instead of losing the line', (t) => {
  const dir = tempDir(t);
  const said: string[] = [];
  const sink = postlogSink({
    fifoPath: join(dir, 'postlog'),
    host: 'mx',
    fallback: (_l, line) => said.push(line),
  });
  const saved = msg.program;
  msg.setProgram('postfix/postqueue');
  t.after(() => msg.setProgram(saved));
  sink('warning', 'postfix/postqueue: warning: Mail system is down');
  assert.deepEqual(said, ['postfix/postqueue: warning: Mail system is down']);
});

test('hostile writers: overlong lines are cut, control characters cannot forge records', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'postlog');
  const file = join(dir, 'mail.log');
  const writer = new MaillogWriter(file);
  const d = startPostlogd({ fifoPath: fifo, writer, maxLine: 64 });
  t.after(() => {
    d.close();
    writer.close();
  });
  const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(fd, `${'a'.repeat(100)}\n`);
  writeSync(fd, 'b'.repeat(50));
  writeSync(fd, `${'b'.repeat(50)}${'c'.repeat(3000)}\nok\rforged\n`);
  closeSync(fd);
  const got = await lines(file, 3);
  assert.deepEqual(got, ['a'.repeat(64), 'b'.repeat(64), 'ok?forged']);
});

test('a path that is not a FIFO is refused', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'postlog');
  writeFileSync(path, '');
  assert.throws(
    () => startPostlogd({ fifoPath: path, writer: new MaillogWriter(join(dir, 'm')) }),
    /not a FIFO/,
  );
});

const MAIN = join(ROOT, 'dist/src/postlogd/main.js');

test('the postlogd process: serves the FIFO until SIGTERM, exits 0', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'q/public'), { recursive: true });
  const file = join(dir, 'mail.log');
  const conf = configDir(
    t,
    `queue_directory = ${dir}/q\nmaillog_file = ${file}\nmaillog_file_prefixes = ${dir}\nmyhostname = mx.example\n`,
  );
  const child = spawn(process.execPath, [MAIN, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.after(() => child.kill('SIGKILL'));
  const fifo = join(dir, 'q/public/postlog');
  for (let i = 0; i < 200 && !existsSync(fifo); i++) await new Promise((r) => setTimeout(r, 20));
  // The FIFO appears before its reader opens it: retry until a line gets through.
  const saved = msg.program;
  msg.setProgram('postfix/postqueue');
  t.after(() => msg.setProgram(saved));
  let missed = 0;
  const sink = postlogSink({ fifoPath: fifo, host: 'mx', fallback: () => missed++ });
  for (let i = 0; i < 200; i++) {
    const before = missed;
    sink('info', 'postfix/postqueue: hello from a user command');
    if (missed === before) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const got = await lines(file, 1);
  assert.match(
    got[0]!,
    /^\w{3} [ \d]\d \d\d:\d\d:\d\d mx postfix\/postqueue\[\d+\]: hello from a user command$/,
  );
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});

test('the postlogd process: empty maillog_file means nothing to do; a bad one is fatal', (t) => {
  const quiet = run(process.execPath, [MAIN, '-c', configDir(t, '')]);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stderr, 'postfix/postlogd: maillog_file is empty: nothing to do\n');
  const bad = run(process.execPath, [MAIN, '-c', configDir(t, 'maillog_file = /nowhere/x.log\n')]);
  assert.equal(bad.status, 1);
  assert.equal(
    bad.stderr,
    "postfix/postlogd: fatal: maillog_file value '/nowhere/x.log' does not match any prefix in maillog_file_prefixes\n",
  );
  const usage = run(process.execPath, [MAIN, '-Z']);
  assert.equal(usage.status, 1);
  assert.equal(
    usage.stderr,
    "postlogd: invalid option -- 'Z'\npostlogd: fatal: usage: postlogd [-c config_dir] [-o name=value] [-v]\n",
  );
});
