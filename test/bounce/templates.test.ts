/*
 * Built-in templates and the template API: `postconf -t` output is a
 * template file that gives the same templates back; Postfix's own -t
 * output read as a file gives Postfix's own -b output; expansion follows
 * main.cf; loadTemplates() serves a bounce daemon.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEMPLATE_KINDS } from '../../src/bounce/template.js';
import { loadTemplates } from '../../src/bounce/template_load.js';
import { loadMainConfig } from '../../src/global/config.js';
import { FatalError, msg } from '../../src/global/msg.js';
import { configDir, ours, tempDir } from '../harness/index.js';
import { readGolden, sections } from './golden.js';

const HOST = 'myhostname = mail.example.com\nmydomain = example.com\n';

test('postconf -t prints a template file that round-trips through bounce_template_file', (t) => {
  const dir = configDir(t, HOST);
  const first = ours('postconf', ['-c', dir, '-t']);
  assert.deepEqual([first.stderr, first.status], ['', 0]);
  assert.deepEqual(
    sections(first.stdout).map(([k]) => k),
    TEMPLATE_KINDS,
  );
  const file = join(tempDir(t), 'bounce.cf');
  writeFileSync(file, first.stdout);
  const again = configDir(t, `${HOST}bounce_template_file = ${file}\n`);
  const second = ours('postconf', ['-c', again, '-t']);
  assert.deepEqual(second, first);
  const builtIn = ours('postconf', ['-c', dir, '-b']);
  const fromFile = ours('postconf', ['-c', again, '-b']);
  assert.deepEqual(fromFile, builtIn);
  assert.equal(builtIn.stderr, '');
  assert.match(builtIn.stdout, /mail system at mail\.example\.com\./);
  assert.doesNotMatch(builtIn.stdout, /\$/);
});

test("Postfix's -t output, read as a template file, expands to Postfix's -b output", (t) => {
  const golden = readGolden().defaults;
  const file = join(tempDir(t), 'postfix-defaults.cf');
  writeFileSync(file, Buffer.from(golden?.t?.stdout ?? '', 'latin1'));
  const dir = configDir(t, HOST);
  const dump = ours('postconf', ['-c', dir, '-t', file]);
  assert.deepEqual(dump, { stdout: golden?.t?.stdout, stderr: '', status: 0 });
  const expanded = ours('postconf', ['-c', dir, '-b', file]);
  assert.deepEqual(expanded, { stdout: golden?.b?.stdout, stderr: '', status: 0 });
});

test('the built-in delay notice tells delay_warning_time in hours and maximal_queue_lifetime in days', (t) => {
  for (const [main, hours, days] of [
    ['', '0', '5'],
    ['delay_warning_time = 4h\nmaximal_queue_lifetime = 3d\n', '4', '3'],
    ['delay_warning_time = 150m\nmaximal_queue_lifetime = 2w\n', '2', '14'],
    ['delay_warning_time = 7\nmaximal_queue_lifetime = 100\n', '7', '100'],
  ] as const) {
    const r = ours('postconf', ['-c', configDir(t, HOST + main), '-b']);
    const delay = sections(r.stdout).find(([k]) => k === 'delay')?.[1] ?? '';
    assert.match(delay, new RegExp(`more than ${hours} hour\\(s\\)`), main);
    assert.match(delay, new RegExp(`${days} day\\(s\\) old`), main);
    assert.deepEqual([r.stderr, r.status], ['', 0], main);
  }
});

test('loadTemplates serves a bounce daemon: headers, expansion with its own values, errors as FatalError', (t) => {
  const file = join(tempDir(t), 'bounce.cf');
  writeFileSync(
    file,
    'failure_template = <<EOF\nSubject: Returned\n\nTo $recipient from $myhostname, limit $bounce_size_limit.\nEOF\n',
  );
  const cfg = loadMainConfig({ configDir: configDir(t, `${HOST}bounce_size_limit = 777\n`) });
  const warnings: string[] = [];
  msg.setSink((_level, line) => warnings.push(line));
  msg.setExitOnFatal(false);
  t.after(() => {
    msg.setSink(null);
    msg.setExitOnFatal(true);
  });
  const templates = loadTemplates(cfg, file);
  const failure = templates.get('failure');
  assert.equal(failure.subject, 'Returned');
  // Headers the file leaves out keep their built-in values.
  assert.ok(failure.postmasterSubject !== undefined && failure.postmasterSubject !== '');
  assert.equal(failure.charset, 'us-ascii');
  assert.equal(failure.origin, file);
  assert.deepEqual(templates.expand('failure', { recipient: 'joe@example.org' }), [
    'To joe@example.org from mail.example.com, limit 777.',
  ]);
  assert.throws(() => templates.expand('failure'), FatalError);
  assert.match(warnings.at(-1) ?? '', /undefined \$name in failure template: To \$recipient/);
  assert.equal(templates.get('success').origin, '[built-in]');
  assert.equal(templates.get('success').postmasterSubject, undefined);
});
