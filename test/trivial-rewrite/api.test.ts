/*
 * The library as daemons will call it: address helpers, rewriteInternal
 * (cleanup's internal-form rewriting), Resolver flags that the wire
 * protocol does not show (defer_transports), and domain lists.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  domainLiteralAddress,
  isValidHostname,
  quote822Local,
  stripSourceRoute,
  unquote822Local,
} from '../../src/global/address.js';
import { loadMainConfig } from '../../src/global/config.js';
import { msg } from '../../src/global/msg.js';
import { DomainList } from '../../src/trivial-rewrite/domain_list.js';
import {
  RESOLVE_CLASS_DEFAULT,
  RESOLVE_CLASS_LOCAL,
  RESOLVE_CLASS_RELAY,
  RESOLVE_FLAG_FAIL,
  Resolver,
} from '../../src/trivial-rewrite/resolve.js';
import { rewriteInternal, rewriteParams } from '../../src/trivial-rewrite/rewrite.js';
import { configDir, tempDir } from '../harness/index.js';

const BASE = 'myhostname = mail.example.com\nmydomain = example.com\ncompatibility_level = 3.6\n';

function resolver(t: import('node:test').TestContext, extra: string): Resolver {
  const warnings: string[] = [];
  msg.setSink((_level, line) => warnings.push(line));
  t.after(() => msg.setSink(null));
  const r = new Resolver(loadMainConfig({ configDir: configDir(t, BASE + extra) }));
  t.after(() => r.close());
  return r;
}

test('quote822Local and unquote822Local are inverse on local parts', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', '.', ' ', '"', '\\', '@', '!', '%', ',') }),
      (local) => {
        const addr = `${local}@example.com`;
        assert.equal(unquote822Local(quote822Local(addr)), addr);
      },
    ),
  );
  assert.equal(quote822Local('first.last@x'), 'first.last@x');
  assert.equal(quote822Local('a b@x'), '"a b"@x');
  assert.equal(quote822Local('a"b@x'), '"a\\"b"@x');
  assert.equal(quote822Local('.a@x'), '".a"@x');
  assert.equal(quote822Local('@x'), '""@x');
});

test('host names, literals and source routes', () => {
  assert.ok(isValidHostname('mail.example.com'));
  assert.ok(isValidHostname('bad_name.org'));
  assert.ok(!isValidHostname('-bad.org'));
  assert.ok(!isValidHostname('a..b'));
  assert.ok(!isValidHostname('1.2.3.4'));
  assert.equal(domainLiteralAddress('[192.0.2.1]'), '192.0.2.1');
  assert.equal(domainLiteralAddress('[IPv6:::1]'), '::1');
  assert.equal(domainLiteralAddress('[192.0.2.300]'), null);
  assert.equal(stripSourceRoute('@a,@b:u@d'), 'u@d');
  assert.equal(stripSourceRoute('@a:'), '@a:');
  assert.equal(stripSourceRoute('"@a:x"@d'), '"@a:x"@d');
});

test('rewriteInternal: internal form in and out, quotes only for parsing', (t) => {
  const cfg = loadMainConfig({ configDir: configDir(t, `${BASE}append_dot_mydomain = yes\n`) });
  const p = rewriteParams(cfg);
  assert.equal(rewriteInternal(p, 'local', 'user'), 'user@mail.example.com');
  assert.equal(rewriteInternal(p, 'local', 'user@host'), 'user@host.example.com');
  assert.equal(rewriteInternal(p, 'local', 'a b'), 'a b@mail.example.com');
  assert.equal(rewriteInternal(p, 'local', 'a@b@c.org'), 'a@b@c.org');
  assert.equal(rewriteInternal(p, 'local', 'host!user'), 'user@host.example.com');
  assert.equal(rewriteInternal(p, 'remote', 'user'), 'user');
  assert.equal(rewriteInternal(p, 'local', ''), '');
});

test('defer_transports marks the result, the route stays', async (t) => {
  const r = resolver(t, 'defer_transports = smtp, relay\nrelay_domains = relay.org\n');
  const remote = await r.resolve('', 'u@remote.org');
  assert.deepEqual(remote, {
    transport: 'smtp',
    nexthop: 'remote.org',
    recipient: 'u@remote.org',
    flags: RESOLVE_CLASS_DEFAULT,
    defer: true,
  });
  assert.equal((await r.resolve('', 'u@relay.org')).defer, true);
  assert.equal((await r.resolve('', 'u@mail.example.com')).defer, false);
});

test('a transport table that cannot answer sets FAIL, never a guess', async (t) => {
  const dir = tempDir(t);
  const r = resolver(t, `transport_maps = texthash:${join(dir, 'missing')}\n`);
  const res = await r.resolve('', 'u@remote.org');
  assert.equal(res.flags, RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_FAIL);
  const f = resolver(t, 'sender_dependent_relayhost_maps = fail:x\n');
  assert.equal((await f.resolve('a@b.org', 'u@remote.org')).flags & RESOLVE_FLAG_FAIL, RESOLVE_FLAG_FAIL);
});

test('transport_maps result forms', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'transport'),
    ['a.org :', 'b.org slow:', 'c.org :[gw]:2525', 'd.org smtp:[10.0.0.1]', 'e.org lmtp'].join('\n'),
  );
  const r = resolver(t, `transport_maps = texthash:${join(dir, 'transport')}\nrelay_domains = relay.org\n`);
  const route = async (a: string) => {
    const x = await r.resolve('', a);
    return `${x.transport}:${x.nexthop}`;
  };
  assert.equal(await route('u@a.org'), 'smtp:a.org');
  assert.equal(await route('u@b.org'), 'slow:b.org');
  assert.equal(await route('u@c.org'), 'smtp:[gw]:2525');
  assert.equal(await route('u@d.org'), 'smtp:[10.0.0.1]');
  assert.equal(await route('u@e.org'), 'lmtp:e.org');
  assert.equal(await route('u@relay.org'), 'relay:relay.org');
  assert.equal((await r.resolve('', 'u')).flags, RESOLVE_CLASS_LOCAL);
  assert.equal((await r.resolve('', 'u@relay.org')).flags, RESOLVE_CLASS_RELAY);
});

test('domain lists: exact strings, parent domains, negation, files, tables that fail', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'list'), '# comment\nfile.org\n  other.org\n');
  const strings = new DomainList(
    'mydestination',
    `!no.org, .dot.org, Exact.Org, ${join(dir, 'list')}`,
    '',
    'string',
  );
  assert.equal(await strings.match('exact.org'), 'match');
  assert.equal(await strings.match('a.exact.org'), 'nomatch');
  assert.equal(await strings.match('a.dot.org'), 'nomatch');
  assert.equal(await strings.match('no.org'), 'nomatch');
  assert.equal(await strings.match('other.org'), 'match');
  const parents = new DomainList('relay_domains', 'relay.org', 'relay_domains', 'domain');
  assert.equal(await parents.match('x.relay.org'), 'match');
  const dots = new DomainList('relay_domains', '.relay.org', '', 'domain');
  assert.equal(await dots.match('x.relay.org'), 'match');
  assert.equal(await dots.match('relay.org'), 'nomatch');
  const failing = new DomainList('relay_domains', 'fail:x, later.org', '', 'domain');
  msg.setSink(() => {});
  t.after(() => msg.setSink(null));
  assert.equal(await failing.match('later.org'), 'retry');
});
