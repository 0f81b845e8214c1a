/*
 * Properties of the main.cf reader on random input: parsing throws nothing
 * but ConfigError, expansion never throws and always ends (loops and deep
 * nesting are reported, not followed), and - where Postfix is installed -
 * random expressions expand as `postconf -x` expands them (few runs: Postfix
 * sleeps a second after each fatal error).
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Postfix's own ${name} syntax, not JavaScript's
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseMainCf } from '../../src/global/config.js';
import { ConfigError } from '../../src/global/params.js';
import { expandText } from '../../src/global/params_expand.js';
import { configDir, postfixCommand } from '../harness/index.js';

const pieces = fc.constantFrom(
  '$',
  '{',
  '}',
  '(',
  ')',
  '?',
  ':',
  '=',
  ' ',
  '\n',
  '\t',
  '#',
  'a',
  'b',
  '==',
  '<level',
  '$a',
  '${',
  '$(',
  '{1}',
  '3.6',
);
const soup = fc.array(pieces, { maxLength: 40 }).map((a) => a.join(''));

test('parseMainCf: only ConfigError, on any text', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), soup), (text) => {
      try {
        parseMainCf(text, 'main.cf');
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('expandText: never throws, always ends, even through self-reference', () => {
  fc.assert(
    fc.property(soup, soup, soup, (x, a, b) => {
      const values: Record<string, string> = { a, b, x };
      const r = expandText(x, (n) => values[n]);
      assert.equal(typeof r.value, 'string');
      for (const e of r.errors) assert.equal(typeof e, 'string');
    }),
    { numRuns: 2000 },
  );
  const r = expandText('$a', (n) => (n === 'a' ? '$a$a' : undefined));
  assert.deepEqual(r.errors, ['unreasonable macro call nesting: "a"']);
});

/** Well-formed and nearly well-formed expressions over a = "A", e = "", u unset. */
const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('x', ' ', '$a', '$e', '$u', '${a}', '$(e)', '$$', '-', '{', '}', ''),
    fc
      .tuple(fc.constantFrom('a', 'e', 'u', ' a '), fc.constantFrom('?', ':'), tie('e'))
      .map(([n, c, v]) => `\${${n}${c}${v}}`),
    fc.tuple(fc.constantFrom('a', 'e', 'u'), tie('e'), tie('e')).map(([n, t, f]) => `\${${n}?{${t}}:{${f}}}`),
    fc
      .tuple(tie('e'), fc.constantFrom('==', '!=', '<', '>=', '=', '<=level'), tie('e'), tie('e'), tie('e'))
      .map(([l, op, r, t, f]) => `\${{${l}} ${op} {${r}} ? {${t}} : {${f}}}`),
    fc.tuple(tie('e'), tie('e')).map(([p, q]) => p + q),
  ),
})).e;

test('random expressions expand as postconf -x expands them', (t) => {
  const postconf = postfixCommand(t, 'postconf');
  if (postconf === null) return;
  const dir = configDir(t, '', '');
  // Postfix's commands pause when a configuration file changed within the last second.
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(dir, 'master.cf'), past, past);
  fc.assert(
    fc.property(expr, (text) => {
      if (text.includes('\n')) return;
      writeFileSync(join(dir, 'main.cf'), `relayhost = ${text}\na = A\ne =\n`);
      utimesSync(join(dir, 'main.cf'), past, past);
      const r = spawnSync(postconf, ['-c', dir, '-xh', 'relayhost'], { encoding: 'utf8' });
      const ours = expandText(text.trim(), (n) => ({ a: 'A', e: '' })[n]);
      const fold = (s: string) =>
        s
          .split(/\s+/)
          .filter((w) => w !== '')
          .join(' ');
      if (r.status === 0) {
        assert.deepEqual(ours.errors, [], text);
        assert.equal(fold(ours.value), fold(r.stdout), text);
      } else {
        assert.notDeepEqual(ours.errors, [], `${text}: ${r.stderr}`);
        assert.ok(r.stderr.includes(ours.errors[0] as string), `${text}: ${r.stderr} vs ${ours.errors[0]}`);
      }
    }),
    { numRuns: 40 },
  );
});
