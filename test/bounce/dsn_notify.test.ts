/*
 * Postmaster copies of notices follow notify_classes and the
 * *_notice_recipient parameters (src/bounce/dsn_notify.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postmasterCopyTo } from '../../src/bounce/dsn_notify.js';
import { loadMainConfig } from '../../src/global/config.js';
import { configDir } from '../harness/index.js';

test('default notify_classes (resource, software): no postmaster copies of notices', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t) });
  for (const kind of ['failure', 'double-bounce', 'delay'] as const) {
    assert.equal(postmasterCopyTo(cfg, kind), undefined, kind);
  }
});

test('each class sends its copy to its own notice recipient', (t) => {
  const cfg = loadMainConfig({
    configDir: configDir(
      t,
      'notify_classes = Bounce,2bounce delay\nbounce_notice_recipient = b@x\n2bounce_notice_recipient = dd@x\n',
    ),
  });
  assert.equal(postmasterCopyTo(cfg, 'failure'), 'b@x');
  assert.equal(postmasterCopyTo(cfg, 'double-bounce'), 'dd@x');
  assert.equal(postmasterCopyTo(cfg, 'delay'), 'postmaster');
  const only = loadMainConfig({ configDir: configDir(t, 'notify_classes = delay\n') });
  assert.equal(postmasterCopyTo(only, 'failure'), undefined);
  assert.equal(postmasterCopyTo(only, 'delay'), 'postmaster');
});
