/*
 * header_checks and friends name a list of tables; an inline table in
 * braces is one item of that list, as Postfix splits it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCheckTables } from '../../src/cleanup/checks_engine.js';

test('an inline regexp table with spaces inside its braces is one table', async () => {
  const warnings: string[] = [];
  const t = await openCheckTables(
    'header_checks',
    'regexp:{ {/^Subject: spam/ REJECT no spam}, {/^X-Bad:/ DISCARD} } , static:DUNNO',
    'header',
    (w) => warnings.push(w),
  );
  assert.deepEqual(warnings, []);
  assert.ok(t);
  assert.deepEqual(
    t.dicts.map((d) => d.type),
    ['regexp', 'static'],
  );
  const hit = await t.dicts[0]?.lookup('Subject: spam today');
  assert.deepEqual(hit, { kind: 'found', value: 'REJECT no spam' });
  for (const d of t.dicts) await d.close();
});
