/*
 * Typed getters and loadParams: values in the units programs use, and bad
 * values stopped in Postfix's words (recorded from postmap and postlock,
 * which read line_length_limit and deliver_lock_delay at start-up).
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Postfix's own ${name} syntax, not JavaScript's
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMainConfig, loadParams, parseTime } from '../../src/global/config.js';
import { configDir } from '../harness/index.js';
import { capture } from './capture.js';

function fatal(
  t: Parameters<typeof configDir>[0],
  mainCf: string,
  read: (c: ReturnType<typeof loadMainConfig>) => unknown,
) {
  const dir = configDir(t, mainCf);
  const r = capture('postlock', () => String(read(loadMainConfig({ configDir: dir }))));
  assert.equal(r.exit, 1);
  return r.stderr;
}

test('loadParams returns a frozen object typed by the registry', (t) => {
  const cfg = loadMainConfig({
    configDir: configDir(
      t,
      'smtpd_timeout = 5m\nstress = yes\nrelayhost = [$mydomain]\nmydomain = example.com\n',
    ),
  });
  const p = loadParams(cfg, [
    'smtpd_timeout',
    'smtpd_hard_error_limit',
    'smtpd_recipient_limit',
    'append_dot_mydomain',
    'relayhost',
    'message_size_limit',
    'bounce_queue_lifetime',
  ]);
  assert.deepEqual(
    { ...p },
    {
      smtpd_timeout: 300,
      smtpd_hard_error_limit: 1,
      smtpd_recipient_limit: 1000,
      append_dot_mydomain: true,
      relayhost: '[example.com]',
      message_size_limit: 10240000,
      bounce_queue_lifetime: 432000,
    },
  );
  assert.ok(Object.isFrozen(p));
});

test('time values: units, default unit, bad values', (t) => {
  assert.equal(parseTime('10', 's'), 10);
  assert.equal(parseTime('10', 'd'), 864000);
  assert.equal(parseTime('2w', 's'), 1209600);
  assert.equal(parseTime('5x', 's'), undefined);
  assert.equal(parseTime('-1', 's'), undefined);
  assert.equal(parseTime('99999999999999s', 's'), undefined);
  for (const v of ['foo', '5x', '1q', '-1', '2 s']) {
    assert.deepEqual(
      fatal(t, `deliver_lock_delay = ${v}\n`, (c) => c.time('deliver_lock_delay')),
      [`postlock: fatal: parameter deliver_lock_delay: bad time value or unit: ${v}`],
    );
  }
  assert.deepEqual(
    fatal(t, 'deliver_lock_delay = 0\n', (c) => c.time('deliver_lock_delay')),
    ['postlock: fatal: invalid deliver_lock_delay: 0 (min 1)'],
  );
});

test('numbers and booleans: Postfix wording', (t) => {
  assert.deepEqual(
    fatal(t, 'smtpd_recipient_limit = ten\n', (c) => c.int('smtpd_recipient_limit')),
    ['postlock: fatal: bad numerical configuration: smtpd_recipient_limit = ten'],
  );
  assert.deepEqual(
    fatal(t, 'smtpd_recipient_limit = 0\n', (c) => c.int('smtpd_recipient_limit')),
    ['postlock: fatal: invalid smtpd_recipient_limit parameter value 0 < 1'],
  );
  assert.deepEqual(
    fatal(t, 'line_length_limit = 2147483648\n', (c) => c.int('line_length_limit')),
    ['postlock: fatal: bad numerical configuration: line_length_limit = 2147483648'],
  );
  assert.deepEqual(
    fatal(t, 'allow_min_user = maybe\n', (c) => c.bool('allow_min_user')),
    ['postlock: fatal: bad boolean configuration: allow_min_user = maybe'],
  );
  const cfg = loadMainConfig({
    configDir: configDir(t, 'allow_min_user = YES\nmessage_size_limit = 4294967296\n'),
  });
  assert.equal(cfg.bool('allow_min_user'), true);
  assert.equal(cfg.long('message_size_limit'), 4294967296);
  assert.deepEqual(cfg.list('mydestination').slice(1), ['localhost.localdomain', 'localhost']);
});

test('computed defaults follow main.cf as Postfix does', (t) => {
  const cfg = loadMainConfig({
    configDir: configDir(
      t,
      'myhostname = mail.example.org\nmynetworks_style = host\ninet_protocols = ipv4\n',
    ),
  });
  assert.equal(cfg.get('mydomain'), 'example.org');
  assert.equal(cfg.get('myorigin'), 'mail.example.org');
  assert.match(cfg.get('mynetworks'), /^127\.0\.0\.1\/32( \d+\.\d+\.\d+\.\d+\/32)*$/);
  const bad = capture('postconf', () =>
    loadMainConfig({ configDir: configDir(t, 'mynetworks_style = wide\n') }).get('mynetworks'),
  );
  assert.deepEqual(bad.stderr, ['postconf: fatal: unknown mynetworks_style parameter value: wide']);
  const unset = loadMainConfig({ configDir: configDir(t, '') });
  assert.equal(unset.get('no_such_parameter'), '');
  assert.equal(unset.raw('relayhost'), undefined);
  assert.equal(unset.defaultOf('smtpd_banner'), '$myhostname ESMTP $mail_name');
  assert.equal(unset.get('forward_path'), '$home/.forward${recipient_delimiter}${extension}, $home/.forward');
});
