/*
 * The messages of addr_cases.ts through AddressMapper, compared with what
 * Postfix 3.7.11's cleanup wrote into the queue files
 * (test/golden/addrmap/golden.json, recorded by addr_record.ts): envelope
 * sender, (original, final) recipient pairs including bcc recipients, and
 * every address header. sendmail hands cleanup each command-line address
 * in internal form, hence the unquoting of the inputs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { AddressMapper } from '../../src/cleanup/addr_map.js';
import { loadMainConfig } from '../../src/global/config.js';
import { msg } from '../../src/global/msg.js';
import { unquote822Local } from '../../src/global/tok822.js';
import { configDir } from '../harness/index.js';
import { CASES, GOLDEN_FILE, MAIN_CF, TABLES } from './addr_cases.js';

interface Recorded {
  case: number;
  sender: string;
  recipients: [string, string][];
  headers: string[];
}
const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as { messages: Recorded[]; warnings: string[] };

/** Postfix's cleanup drops these (they are never in the queue file). */
const DROPPED = new Set(['bcc', 'resent-bcc']);

function setup(t: TestContext) {
  const dir = configDir(t);
  for (const [name, text] of Object.entries(TABLES)) writeFileSync(join(dir, name), `${text}\n`);
  writeFileSync(join(dir, 'main.cf'), `${MAIN_CF.map((l) => l.replaceAll('$TABLES', dir)).join('\n')}\n`);
  const warnings: string[] = [];
  msg.setSink((level, line) => {
    if (level === 'warning') warnings.push(line);
  });
  t.after(() => msg.setSink(null));
  return { cfg: loadMainConfig({ configDir: dir }), warnings };
}

test('every recorded message comes out of AddressMapper as out of Postfix cleanup', async (t) => {
  const { cfg, warnings } = setup(t);
  assert.equal(golden.messages.length, CASES.length);
  for (const rec of golden.messages) {
    const c = CASES[rec.case]!;
    await t.test(c.name, async () => {
      const m = await AddressMapper.open(cfg, {
        mapping: true,
        bcc: true,
        context: 'local',
        rewriteHeaders: true,
      });
      const sender = await m.envelopeSender(c.sender);
      assert.ok(sender.ok);
      assert.equal(sender.value, rec.sender, 'envelope sender');
      const pairs: [string, string][] = [];
      const rewritten: string[] = [];
      const add = async (orig: string, addr: string) => {
        const v = await m.virtualAlias(addr);
        assert.ok(v.ok);
        for (const a of v.value) pairs.push([orig, a]);
      };
      for (const arg of c.recipients) {
        const orig = unquote822Local(arg);
        const r = await m.envelopeRecipient(orig);
        assert.ok(r.ok);
        rewritten.push(r.value);
        await add(orig, r.value);
      }
      const bcc = await m.bcc(sender.value, rewritten);
      assert.ok(bcc.ok);
      for (const b of bcc.value) {
        const r = await m.envelopeRecipient(b);
        assert.ok(r.ok);
        await add(r.value, r.value);
      }
      assert.deepEqual(pairs.sort(), [...rec.recipients].sort(), 'recipients');
      const names = new Set(c.headers.map((h) => h.slice(0, h.indexOf(':'))));
      const ours: string[] = [];
      for (const h of c.headers) {
        const name = h.slice(0, h.indexOf(':'));
        if (DROPPED.has(name.toLowerCase())) continue;
        const r = await m.headerValue(name, h.slice(name.length + 1));
        assert.ok(r.ok);
        ours.push(`${name}:${r.value}`);
      }
      const theirs = rec.headers.filter((h) => names.has(h.slice(0, h.indexOf(':'))));
      assert.deepEqual(ours, theirs, 'headers');
      await m.close();
    });
  }
  // Postfix warned twice about the multi-valued canonical entry (envelope and header).
  const multi = (l: string) => l.includes('multi-valued canonical_maps entry for multi@example.com');
  assert.equal(warnings.filter(multi).length, golden.warnings.filter(multi).length);
  await AddressMapper.release(cfg);
});
