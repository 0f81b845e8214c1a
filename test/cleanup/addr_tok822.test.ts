/*
 * tok822 and header rewriting: properties (fast-check, fixed seeds) and
 * parser cases worked out from Postfix's grouping rules; the goldens in
 * addr_golden.test.ts check the same code against Postfix's cleanup.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import { AddressMapper } from '../../src/cleanup/addr_map.js';
import { loadMainConfig } from '../../src/global/config.js';
import { msg } from '../../src/global/msg.js';
import {
  addressText,
  foldHeader,
  quote822Local,
  tok822Addresses,
  tok822Externalize,
  tok822Parse,
  unquote822Local,
} from '../../src/global/tok822.js';
import { configDir } from '../harness/index.js';

const addrs = (text: string) => tok822Addresses(tok822Parse(text)).map(addressText);

test('addresses are found as Postfix groups them', () => {
  assert.deepEqual(addrs('Name <a@b.c>'), ['a@b.c']);
  assert.deepEqual(addrs('a@x b@y'), ['a@x', 'b@y']);
  assert.deepEqual(addrs('Friends: alice, "Bob B." <bob@x>;, carol (C)'), ['alice', 'bob@x', 'carol']);
  assert.deepEqual(addrs('undisclosed-recipients:;'), []);
  assert.deepEqual(addrs('a (c1) @ b (c2) . example (c3)'), ['a@b.example']);
  assert.deepEqual(addrs('"john doe"@x'), ['john doe@x']);
  assert.deepEqual(addrs('<>'), []);
  assert.deepEqual(addrs('<@hop1,@hop2:u@x>'), ['@hop1,@hop2:u@x']);
  // Missing commas are put back before each new word.
  assert.equal(tok822Externalize(tok822Parse('a@x b@y')), 'a@x, b@y');
  // Comments leave the address and follow it.
  assert.equal(tok822Externalize(tok822Parse('<a (c) @b>')), '<a@b (c)>');
  // Unterminated quotes, comments and literals end at the end of the text.
  assert.deepEqual(addrs('"abc'), ['abc']);
  assert.equal(tok822Externalize(tok822Parse('(open')), '(open');
  assert.deepEqual(addrs('a@[1.2.3.4'), ['a@[1.2.3.4]']);
});

test('quote and unquote local parts as Postfix', () => {
  assert.equal(quote822Local('john doe@x'), '"john doe"@x');
  assert.equal(quote822Local('a.b@x'), 'a.b@x');
  assert.equal(quote822Local('x.@y'), '"x."@y');
  assert.equal(quote822Local('@y'), '""@y');
  assert.equal(quote822Local('a"b\\c@y'), '"a\\"b\\\\c"@y');
  assert.equal(quote822Local('@r1,@r2:a b@y'), '@r1,@r2:"a b"@y');
  assert.equal(quote822Local('ü@y'), 'ü@y');
  assert.equal(unquote822Local('"a@b"@c'), 'a@b@c');
  assert.equal(unquote822Local('"a\\"b"@c'), 'a"b@c');
});

test('folding joins addresses on lines under 70 characters', () => {
  const line = `To: ${Array.from({ length: 6 }, (_, i) => `user${i}@example.com`).join(',\n')}`;
  assert.equal(
    foldHeader(line),
    'To: user0@example.com, user1@example.com, user2@example.com,\n\tuser3@example.com, user4@example.com, user5@example.com',
  );
});

test('more than 250 bytes of phrase and comments around one address are cut, with a warning', () => {
  const warnings: string[] = [];
  const text = tok822Externalize(tok822Parse(`(${'x'.repeat(300)}) a@b.c, d@e.f`), 'head', true, (w) =>
    warnings.push(w),
  );
  assert.equal(text, '<a@b.c>,\nd@e.f');
  assert.equal(warnings.length, 1);
  // The comment was moved behind the address before the text was measured.
  assert.match(warnings[0]!, /^stripping too many comments from address: a@b\.c \(x{93}\.\.\.$/);
});

async function mapper(t: TestContext, mainCf = '') {
  const dir = configDir(t, `compatibility_level = 3.6\nmyorigin = example.com\n${mainCf}`);
  const cfg = loadMainConfig({ configDir: dir });
  t.after(() => AddressMapper.release(cfg));
  return AddressMapper.open(cfg, { mapping: true, bcc: true, context: 'local', rewriteHeaders: true });
}

// Headers made of fully qualified addresses with phrases, comments, groups,
// odd spacing and folding: nothing to rewrite, so not one byte may change.
const atom = fc.stringMatching(/^[a-z0-9!#$&'*+/=?^_`{|}~-]{1,8}$/);
const domain = fc
  .array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 2, maxLength: 3 })
  .map((l) => l.join('.'));
const space = fc.constantFrom('', ' ', '  ', '\t', '\n\t', '\n ');
const comment = fc.stringMatching(/^[a-z ]{0,10}$/).map((s) => `(${s})`);
const phrase = fc.oneof(
  fc.array(atom, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
  fc.stringMatching(/^[a-z ,.@<>]{0,12}$/).map((s) => `"${s}"`),
);
// Quotes only where needed: trivial-rewrite drops needless ones ("a"@x is a@x), as in Postfix.
const local = fc.oneof(
  atom,
  fc.stringMatching(/^[a-z .@]{1,8}$/).map((s) => quote822Local(`${s}@x`).slice(0, -2)),
);
const mailbox = fc
  .tuple(local, domain, fc.option(phrase), fc.option(comment), space, space)
  .map(([l, d, p, c, s1, s2]) => {
    const spec = `${l}@${d}`;
    const core = p === null ? spec : `${p}${s1}<${spec}>`;
    return c === null ? `${s1}${core}${s2}` : `${s1}${core}${s2}${c}`;
  });
const group = fc
  .tuple(atom, fc.array(mailbox, { maxLength: 3 }))
  .map(([name, members]) => `${name}:${members.join(',')};`);
const headerValue = fc
  .tuple(fc.array(fc.oneof(mailbox, mailbox, group), { minLength: 1, maxLength: 5 }), space)
  .map(([items, s]) => `${s}${items.join(',')}`);

test('a header with nothing to rewrite comes back byte for byte', async (t) => {
  const m = await mapper(t);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('To', 'From', 'Cc', 'Reply-To'), headerValue, async (name, value) => {
      const r = await m.headerValue(name, value);
      assert.ok(r.ok);
      assert.equal(r.value, value);
    }),
    { seed: 4242, numRuns: 300 },
  );
});

test('any text: parsing never fails, other headers never change, rewritten ones stay one header', async (t) => {
  const m = await mapper(t, 'canonical_maps = inline:{ {@example.com = @mapped.example} }');
  const sink: string[] = [];
  msg.setSink((_l, line) => sink.push(line));
  t.after(() => msg.setSink(null));
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: fc.constantFrom(...'ab@.,;:<>()"[]\\ \t\n!%'.split('')) }),
      async (value) => {
        const other = await m.headerValue('Subject', value);
        assert.ok(other.ok);
        assert.equal(other.value, value);
        const r = await m.headerValue('To', value);
        assert.ok(r.ok);
        // A rewritten header: every line after the first is a continuation line.
        if (r.value !== value) for (const l of r.value.split('\n').slice(1)) assert.match(l, /^[ \t]/);
      },
    ),
    { seed: 7, numRuns: 500 },
  );
});
