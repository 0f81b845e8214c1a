import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { FatalError, msg } from '../../src/global/msg.js';
import { mailboxSettings } from '../../src/local/mailbox_params.js';
import { configDir } from '../harness/index.js';

test('Postfix defaults: fcntl + dotlock, 20 attempts 1 s apart, 500 s stale, 51200000 bytes', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t) });
  assert.deepEqual(mailboxSettings(cfg, 'local'), {
    lock: ['fcntl', 'dotlock'],
    retry: { attempts: 20, delay: 1, stale: 500 },
    sizeLimit: 51200000,
  });
});

test('main.cf settings, per agent', (t) => {
  const cfg = loadMainConfig({
    configDir: configDir(
      t,
      'mailbox_delivery_lock = dotlock\nvirtual_mailbox_lock = flock\ndeliver_lock_attempts = 3\ndeliver_lock_delay = 2s\nstale_lock_time = 1m\nmailbox_size_limit = 0\nvirtual_mailbox_limit = 1000\n',
    ),
  });
  assert.deepEqual(mailboxSettings(cfg, 'local'), {
    lock: ['dotlock'],
    retry: { attempts: 3, delay: 2, stale: 60 },
    sizeLimit: 0,
  });
  assert.deepEqual(mailboxSettings(cfg, 'virtual').lock, ['flock']);
  assert.equal(mailboxSettings(cfg, 'virtual').sizeLimit, 1000);
});

test('an unknown lock method is fatal', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t, 'mailbox_delivery_lock = fcntl, lockf\n') });
  const lines: string[] = [];
  msg.setExitOnFatal(false);
  msg.setSink((_l, line) => lines.push(line));
  t.after(() => {
    msg.setExitOnFatal(true);
    msg.setSink(null);
  });
  assert.throws(() => mailboxSettings(cfg, 'local'), FatalError);
  assert.match(lines[0] ?? '', /fatal: unknown mailbox lock value "lockf" in "fcntl, lockf"$/u);
});
