/*
 * Search orders of access(5), virtual(5)/canonical(5)/relocated(5) and
 * transport(5), checked with recording tables: the exact sequence of keys
 * each table is asked, where the search stops, and that a table that cannot
 * answer stops the search (retry, never a fall-through to a later key).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accessAddressKeys,
  accessAddressLookup,
  addressKeys,
  addressMapKeys,
  addressMapLookup,
  clientKeys,
  clientLookup,
  domainKeys,
  parentMatchesSubdomains,
  searchKeys,
  splitAddress,
  transportKeys,
  transportLookup,
} from '../../../src/maps/access_search.js';
import { type Dict, found, type Lookup, NOTFOUND, READ_FLAGS, retry } from '../../../src/maps/dict.js';
import { openDict } from '../../../src/maps/index.js';

/** A table that logs every key it is asked and answers from a script. */
function recorder(answers: Record<string, Lookup> = {}, opts: { type?: string; pattern?: boolean } = {}) {
  const asked: string[] = [];
  const dict: Dict = {
    type: opts.type ?? 'hash',
    name: 'recorder',
    ...(opts.pattern === undefined ? {} : { pattern: opts.pattern }),
    async lookup(key) {
      asked.push(key);
      return answers[key] ?? NOTFOUND;
    },
    close: async () => {},
  };
  return { dict, asked };
}

const keysOf = (ks: { key: string }[]) => ks.map((k) => k.key);

describe('access(5) e-mail address order', () => {
  test('without recipient_delimiter: user@domain, domain, .parents, user@', async () => {
    const r = recorder();
    const res = await accessAddressLookup([r.dict], 'user@mail.example.com', { parentMatches: false });
    assert.deepEqual(res, { kind: 'notfound' });
    assert.deepEqual(r.asked, ['user@mail.example.com', 'mail.example.com', '.example.com', '.com', 'user@']);
  });

  test('parent_domain_matches_subdomains lists smtpd_access_maps: parents without dot', () => {
    assert.deepEqual(keysOf(accessAddressKeys('u@a.b.c', { parentMatches: true })), [
      'u@a.b.c',
      'a.b.c',
      'b.c',
      'c',
      'u@',
    ]);
  });

  test('with an extension: user+foo@domain, user@domain, domain, user+foo@, user@', () => {
    const keys = accessAddressKeys('user+foo@example.com', { parentMatches: true, recipientDelimiter: '+' });
    assert.deepEqual(keysOf(keys), [
      'user+foo@example.com',
      'user@example.com',
      'example.com',
      'com',
      'user+foo@',
      'user@',
    ]);
    assert.equal(keys[1]!.extension, 'foo');
    assert.equal(keys[0]!.partial, false);
    assert.ok(keys.slice(1).every((k) => k.partial));
  });

  test('first found wins and the search stops there', async () => {
    const r = recorder({ '.example.com': found('REJECT') });
    const res = await accessAddressLookup([r.dict], 'a@x.example.com', { parentMatches: false });
    assert.equal(res.kind, 'found');
    assert.equal(res.kind === 'found' && res.key.key, '.example.com');
    assert.deepEqual(r.asked, ['a@x.example.com', 'x.example.com', '.example.com']);
  });

  test('a retry stops the search: later keys are never asked', async () => {
    const r = recorder({ 'x.example.com': retry('down'), '.example.com': found('OK') });
    const res = await accessAddressLookup([r.dict], 'a@x.example.com', { parentMatches: false });
    assert.equal(res.kind, 'retry');
    assert.deepEqual(r.asked, ['a@x.example.com', 'x.example.com']);
  });

  test('pattern tables get only the full address', async () => {
    const re = recorder({}, { type: 'regexp' });
    const cidr = recorder({}, { pattern: true });
    await accessAddressLookup([re.dict, cidr.dict], 'u+x@a.b', {
      parentMatches: false,
      recipientDelimiter: '+',
    });
    assert.deepEqual(re.asked, ['u+x@a.b']);
    assert.deepEqual(cidr.asked, ['u+x@a.b']);
  });

  test('address without domain', () => {
    assert.deepEqual(keysOf(accessAddressKeys('postmaster', { parentMatches: false })), ['postmaster']);
  });
});

describe('extension splitting (split_addr)', () => {
  const d = { recipientDelimiter: '+-' };
  test('first delimiter of the set', () => {
    assert.deepEqual(splitAddress('a-b+c@x', d), {
      local: 'a-b+c',
      domain: 'x',
      base: 'a',
      extension: 'b+c',
    });
  });
  test('never split', () => {
    for (const a of [
      'owner-list@x',
      'list-request@x',
      'Postmaster@x',
      'MAILER-DAEMON@x',
      'double-bounce@x',
      '+foo@x',
      'foo+@x',
    ]) {
      assert.equal(splitAddress(a, d).base, null, a);
    }
    assert.equal(splitAddress('a+b@x', {}).base, null);
  });
});

describe('host name and address order', () => {
  test('client: name, parents, then address prefixes', async () => {
    const r = recorder();
    await clientLookup([r.dict], 'mail.example.com', '192.0.2.1', false);
    assert.deepEqual(r.asked, [
      'mail.example.com',
      '.example.com',
      '.com',
      '192.0.2.1',
      '192.0.2',
      '192.0',
      '192',
    ]);
  });
  test('host name with parent_domain_matches_subdomains', () => {
    assert.deepEqual(keysOf(clientKeys('a.b.c', '10.1.2.3', true)), [
      'a.b.c',
      'b.c',
      'c',
      '10.1.2.3',
      '10.1.2',
      '10.1',
      '10',
    ]);
  });
  test('IPv6: cut at the last colon of the compressed form', () => {
    assert.deepEqual(keysOf(addressKeys('2001:db8::1')), ['2001:db8::1', '2001:db8:', '2001:db8', '2001']);
  });
  test('only the name and the full address are full keys', () => {
    const ks = clientKeys('a.b', '1.2.3.4', false);
    assert.deepEqual(
      ks.filter((k) => !k.partial).map((k) => k.key),
      ['a.b', '1.2.3.4'],
    );
  });
  test('a cidr table sees the full address only', async () => {
    const cidr = await openDict('cidr:{ {192.0.2.0/24 REJECT} }');
    const r = await clientLookup([cidr], 'unknown', '192.0.2.9', false);
    assert.equal(r.kind === 'found' && r.value, 'REJECT');
  });
  test('domainKeys of an empty domain', () => {
    assert.deepEqual(domainKeys('', true), []);
  });
});

describe('virtual/canonical/relocated order', () => {
  const local = (d: string) => d === 'example.com';
  test('local domain: user+foo@domain, user@domain, user+foo, user, @domain', () => {
    assert.deepEqual(
      keysOf(addressMapKeys('user+foo@example.com', { recipientDelimiter: '+', isLocal: local })),
      ['user+foo@example.com', 'user@example.com', 'user+foo', 'user', '@example.com'],
    );
  });
  test('remote domain: no local-part keys', () => {
    assert.deepEqual(
      keysOf(addressMapKeys('user+foo@remote.org', { recipientDelimiter: '+', isLocal: local })),
      ['user+foo@remote.org', 'user@remote.org', '@remote.org'],
    );
  });
  test('each key goes to every table before the next key', async () => {
    const a = recorder();
    const b = recorder({ '@example.com': found('catchall') });
    const res = await addressMapLookup([a.dict, b.dict], 'u@example.com', { isLocal: local });
    assert.deepEqual(a.asked, ['u@example.com', 'u', '@example.com']);
    assert.deepEqual(b.asked, ['u@example.com', 'u', '@example.com']);
    assert.equal(res.kind === 'found' && res.dict, b.dict);
  });
  test('the extension is reported when an unextended key matched', async () => {
    const t = recorder({ 'user@example.com': found('other@example.net') });
    const res = await addressMapLookup([t.dict], 'user+foo@example.com', { recipientDelimiter: '+' });
    assert.equal(res.kind === 'found' && res.key.extension, 'foo');
  });
  test('retry in the first table stops before the second', async () => {
    const a = recorder({ 'u@example.com': retry('x') });
    const b = recorder({ 'u@example.com': found('y') });
    assert.equal((await addressMapLookup([a.dict, b.dict], 'u@example.com')).kind, 'retry');
    assert.deepEqual(b.asked, []);
  });
});

describe('transport(5) order', () => {
  test('user+ext@domain, user@domain, domain, .parents, *', async () => {
    const r = recorder();
    await transportLookup([r.dict], 'u+e@mail.example.com', {
      parentMatches: false,
      recipientDelimiter: '+',
    });
    assert.deepEqual(r.asked, [
      'u+e@mail.example.com',
      'u@mail.example.com',
      'mail.example.com',
      '.example.com',
      '.com',
      '*',
    ]);
  });
  test('transport_maps in parent_domain_matches_subdomains', () => {
    assert.deepEqual(keysOf(transportKeys('u@a.b', { parentMatches: true })), ['u@a.b', 'a.b', 'b', '*']);
  });
});

test('parent_domain_matches_subdomains parsing', () => {
  const v = 'debug_peer_list,fast_flush_domains,mynetworks, smtpd_access_maps';
  assert.equal(parentMatchesSubdomains(v, 'smtpd_access_maps'), true);
  assert.equal(parentMatchesSubdomains(v, 'transport_maps'), false);
  assert.equal(parentMatchesSubdomains(['Transport_Maps'], 'transport_maps'), true);
});

test('searchKeys with no tables finds nothing', async () => {
  assert.deepEqual(await searchKeys([], [{ key: 'x', partial: false }]), { kind: 'notfound' });
});

test('unionmap and proxy carry the pattern property of their members', async () => {
  assert.equal((await openDict('unionmap:{cidr:{ {1.2.3.4 a} }, static:x}')).pattern, false);
  assert.equal((await openDict('unionmap:{cidr:{ {1.2.3.4 a} }}')).pattern, true);
  const approved = { ...READ_FLAGS, config: { get: () => 'cidr:{ {1.2.3.4 a} }' } };
  assert.equal((await openDict('proxy:cidr:{ {1.2.3.4 a} }', approved)).pattern, true);
  assert.equal((await openDict('pipemap:{inline:{a=b}, static:x}')).pattern, false);
});
