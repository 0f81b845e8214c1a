/*
 * AddressMapper options and edges that the Postfix goldens
 * (addr_golden.test.ts) do not reach: the cleanup flags, header classes,
 * tables that cannot be opened, queue IDs in warnings. Expected values
 * follow the Postfix 3.7 behaviour documented in docs/cleanup-addresses.md.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { AddressMapper, type MapperOptions } from '../../src/cleanup/addr_map.js';
import { loadMainConfig } from '../../src/global/config.js';
import { msg } from '../../src/global/msg.js';
import { configDir } from '../harness/index.js';

const ALL: MapperOptions = { mapping: true, bcc: true, context: 'local', rewriteHeaders: true };

const MAIN = [
  'compatibility_level = 3.6',
  'myhostname = mx.example.com',
  'mydomain = example.com',
  'myorigin = example.com',
  'recipient_delimiter = +',
  'sender_canonical_maps = inline:{ {bob@example.com = sender-bob@example.com} }',
  'recipient_canonical_maps = inline:{ {bob@example.com = rcpt-bob@example.com} }',
  'virtual_alias_maps = inline:{ {x@example.net = y@example.net} }',
  'always_bcc = archive@example.net',
].join('\n');

async function open(t: TestContext, opts: Partial<MapperOptions> = {}, mainCf = MAIN) {
  const cfg = loadMainConfig({ configDir: configDir(t, mainCf) });
  const log: string[] = [];
  msg.setSink((_l, line) => log.push(line));
  t.after(async () => {
    msg.setSink(null);
    await AddressMapper.release(cfg);
  });
  return { m: await AddressMapper.open(cfg, { ...ALL, ...opts }), log };
}

test('without the mapping flag only trivial-rewrite applies', async (t) => {
  const { m } = await open(t, { mapping: false });
  assert.deepEqual(await m.envelopeSender('bob'), { ok: true, value: 'bob@example.com' });
  assert.deepEqual(await m.envelopeRecipient('bob'), { ok: true, value: 'bob@example.com' });
  assert.deepEqual(await m.virtualAlias('x@example.net'), { ok: true, value: ['x@example.net'] });
  assert.deepEqual(await m.headerValue('To', ' bob'), { ok: true, value: ' bob@example.com' });
});

test('with it: sender and recipient tables by class, virtual aliases', async (t) => {
  const { m } = await open(t);
  assert.deepEqual(await m.envelopeSender('bob'), { ok: true, value: 'sender-bob@example.com' });
  assert.deepEqual(await m.envelopeRecipient('bob'), { ok: true, value: 'rcpt-bob@example.com' });
  assert.deepEqual(await m.virtualAlias('x@example.net'), { ok: true, value: ['y@example.net'] });
  assert.deepEqual(await m.headerValue('From', ' bob'), { ok: true, value: ' sender-bob@example.com' });
  assert.deepEqual(await m.headerValue('To', ' bob'), { ok: true, value: ' rcpt-bob@example.com' });
  // Resent-Reply-To is a recipient header in Postfix.
  assert.deepEqual(await m.headerValue('resent-reply-to', ' bob'), {
    ok: true,
    value: ' rcpt-bob@example.com',
  });
  assert.deepEqual(await m.headerValue('Subject', ' bob'), { ok: true, value: ' bob' });
  // The null recipient is $empty_address_recipient; the null sender stays null.
  assert.deepEqual(await m.envelopeRecipient(''), { ok: true, value: 'MAILER-DAEMON@example.com' });
  assert.deepEqual(await m.envelopeSender(''), { ok: true, value: '' });
});

test('headers of remote clients: untouched, or rewritten in the remote context', async (t) => {
  const { m } = await open(t, { rewriteHeaders: false });
  assert.deepEqual(await m.headerValue('To', ' bob'), { ok: true, value: ' bob' });
  const remote = await open(
    t,
    { context: 'remote' },
    `${MAIN}\nremote_header_rewrite_domain = domain.invalid`,
  );
  assert.deepEqual(await remote.m.headerValue('Cc', ' joe'), { ok: true, value: ' joe@domain.invalid' });
  // Envelope addresses are always rewritten in the local context.
  assert.deepEqual(await remote.m.envelopeRecipient('joe'), { ok: true, value: 'joe@example.com' });
});

test('bcc: only with the flag; always_bcc only when there are recipients', async (t) => {
  const { m } = await open(t, { bcc: false });
  assert.deepEqual(await m.bcc('a@example.org', ['b@example.org']), { ok: true, value: [] });
  const on = await open(t);
  assert.deepEqual(await on.m.bcc('a@example.org', ['b@example.org']), {
    ok: true,
    value: ['archive@example.net'],
  });
  assert.deepEqual(await on.m.bcc('a@example.org', []), { ok: true, value: [] });
});

test('a table that cannot be opened defers, with the queue ID in the warning', async (t) => {
  const { m, log } = await open(
    t,
    { queueId: '4F2A1C0' },
    `${MAIN}\ncanonical_maps = texthash:/nonexistent/table`,
  );
  const r = await m.envelopeSender('a@example.org');
  assert.deepEqual(r, { ok: false, defer: '4.3.0 queue file write error', stat: 2 });
  assert.ok(log.some((l) => l.includes('texthash:/nonexistent/table is unavailable')));
  assert.ok(
    log.some((l) =>
      l.endsWith(
        'warning: 4F2A1C0: canonical_maps map lookup problem for a@example.org -- message not accepted, try again later',
      ),
    ),
  );
  m.queueId = 'B00';
  assert.equal((await m.headerValue('From', ' c@example.org')).ok, false);
  assert.ok(log.some((l) => l.includes('warning: B00: canonical_maps map lookup problem for c@example.org')));
});

test('virtual aliases: self kept, duplicates gone, extension propagated to @domain results', async (t) => {
  const tables =
    'inline:{ {l@example.net = l@example.net, A@example.org, a@example.org}, {@v.test = @w.test} }';
  const main = MAIN.replace(/^virtual_alias_maps.*$/m, `virtual_alias_maps = ${tables}`);
  const { m } = await open(t, {}, main);
  assert.deepEqual(await m.virtualAlias('l@example.net'), {
    ok: true,
    value: ['l@example.net', 'A@example.org'],
  });
  assert.deepEqual(await m.virtualAlias('u+x@v.test'), { ok: true, value: ['u+x@w.test'] });
});

test('an unknown class name is fatal, in Postfix words', async (t) => {
  msg.setExitOnFatal(false);
  t.after(() => msg.setExitOnFatal(true));
  await assert.rejects(
    open(t, {}, `${MAIN}\nmasquerade_classes = envelope_sender, bogus`),
    /unknown masquerade_classes value "bogus"/,
  );
});
