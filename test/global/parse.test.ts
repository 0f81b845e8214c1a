/*
 * main.cf syntax against Postfix: each test/golden/global/parse/<case>.cf is
 * a main.cf; <case>.out is what `postmap -c DIR -q x static:found` said
 * (postmap reads main.cf once and checks the global parameters it needs:
 * myhostname and default_database_type must not be empty, line_length_limit
 * is a number >= 512). Our reader loads the same file and checks the same.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMainConfig, loadParams } from '../../src/global/config.js';
import { configDir, GOLDEN } from '../harness/index.js';
import { capture, readGolden } from './capture.js';

const DIR = join(GOLDEN, 'global/parse');
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.cf'))
  .map((f) => f.slice(0, -3))
  .sort();

for (const name of CASES) {
  test(`main.cf ${name}`, (t) => {
    const dir = configDir(t, readFileSync(join(DIR, `${name}.cf`), 'utf8'));
    const got = capture('postmap', () => {
      const cfg = loadMainConfig({ configDir: dir });
      loadParams(cfg, ['default_database_type', 'myhostname', 'line_length_limit']);
      return 'found\n';
    });
    assert.deepEqual(got, readGolden(join(DIR, `${name}.out`), dir));
  });
}

test('continuation lines keep their whitespace; comments and blank lines do not end them', (t) => {
  const dir = configDir(t, 'relayhost = a\n  b\n\n# note\n\tc\nmyhostname = h.example\n');
  const cfg = loadMainConfig({ configDir: dir });
  assert.equal(cfg.raw('relayhost'), 'a  b\tc');
  assert.deepEqual(cfg.names(), ['config_directory', 'relayhost', 'myhostname']);
  assert.equal(cfg.entry('myhostname')?.line, 6);
});

test('-o overrides apply after main.cf, silently, last one wins; bad ones are fatal', (t) => {
  const dir = configDir(t, 'relayhost = file\n');
  const ok = capture('postconf', () => {
    const cfg = loadMainConfig({
      configDir: dir,
      overrides: ['relayhost=one', 'relayhost = two ', 'extra=x'],
    });
    return `${cfg.get('relayhost')} ${cfg.names().join(',')}`;
  });
  assert.deepEqual(ok, { stdout: 'two config_directory,relayhost,extra', stderr: [], exit: 0 });
  for (const [o, why] of [
    ['bad', "missing '=' after attribute name"],
    ['=x', 'missing attribute name'],
  ] as const) {
    const bad = capture('postconf', () =>
      loadMainConfig({ configDir: dir, overrides: [o] }).get('relayhost'),
    );
    assert.deepEqual(bad.stderr, [`postconf: fatal: invalid parameter override: ${o}: ${why}`]);
    assert.equal(bad.exit, 1);
  }
});

test('config_directory: -c or MAIL_CONFIG sets it, the built-in default does not', (t) => {
  const dir = configDir(t, '');
  assert.equal(loadMainConfig({ configDir: dir }).raw('config_directory'), dir);
  const saved = process.env.MAIL_CONFIG;
  t.after(() => {
    if (saved === undefined) delete process.env.MAIL_CONFIG;
    else process.env.MAIL_CONFIG = saved;
  });
  process.env.MAIL_CONFIG = dir;
  const cfg = loadMainConfig();
  assert.equal(cfg.configDirectory, dir);
  assert.equal(cfg.get('config_directory'), dir);
  assert.equal(cfg.file, join(dir, 'main.cf'));
});

test('a missing main.cf is fatal unless missingOk', (t) => {
  const dir = join(configDir(t, ''), 'nowhere');
  const r = capture('postmap', () => loadMainConfig({ configDir: dir }).get('relayhost'));
  assert.deepEqual(r.stderr, [`postmap: fatal: open ${dir}/main.cf: No such file or directory`]);
  const ok = capture('postconf', () => loadMainConfig({ configDir: dir, missingOk: true }).get('mail_name'));
  assert.equal(ok.stdout, 'Postfix');
});

test('withOverrides gives a service its own view and leaves the original alone', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t, 'smtpd_timeout = 60\n') });
  const svc = cfg.withOverrides(['smtpd_timeout=10m', 'syslog_name=postfix/submission']);
  assert.equal(svc.time('smtpd_timeout'), 600);
  assert.equal(svc.get('syslog_name'), 'postfix/submission');
  assert.equal(cfg.time('smtpd_timeout'), 60);
  assert.equal(cfg.get('syslog_name'), 'postfix');
});
