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
import { type Case, CONFIGS, type Config, goldenFile } from './addr_cases.js';

interface Recorded {
  case: number;
  sender: string;
  recipients: [string, string][];
  headers: string[];
}
interface Golden {
  messages: Recorded[];
  /** Postfix's warnings and "try again later" lines, queue IDs as QUEUEID. */
  log: string[];
}

/** Postfix's cleanup drops these (they are never in the queue file). */
const DROPPED = new Set(['bcc', 'resent-bcc']);

function setup(t: TestContext, config: Config) {
  const dir = configDir(t);
  for (const [name, text] of Object.entries(config.tables)) writeFileSync(join(dir, name), `${text}\n`);
  writeFileSync(
    join(dir, 'main.cf'),
    `${config.mainCf.map((l) => l.replaceAll('$TABLES', dir)).join('\n')}\n`,
  );
  const log: string[] = [];
  msg.setSink((_level, line) =>
    log.push(line.replace(/^[^:]*: /, '').replace(/^(warning: )?NOQUEUE: /, '$1QUEUEID: ')),
  );
  t.after(() => msg.setSink(null));
  return { cfg: loadMainConfig({ configDir: dir }), log };
}

/** What cleanup would queue for one message, or the first deferral. */
async function run(m: AddressMapper, c: Case, headersToo: boolean) {
  const sender = await m.envelopeSender(unquote822Local(c.sender));
  if (!sender.ok) return sender;
  const pairs: [string, string][] = [];
  const rewritten: string[] = [];
  const add = async (orig: string, addr: string) => {
    const v = await m.virtualAlias(addr);
    if (!v.ok) return v;
    for (const a of v.value) pairs.push([orig, a]);
    return v;
  };
  for (const arg of c.recipients) {
    const orig = unquote822Local(arg);
    const r = await m.envelopeRecipient(orig);
    if (!r.ok) return r;
    rewritten.push(r.value);
    const v = await add(orig, r.value);
    if (!v.ok) return v;
  }
  const bcc = await m.bcc(sender.value, rewritten);
  if (!bcc.ok) return bcc;
  for (const b of bcc.value) {
    const r = await m.envelopeRecipient(b);
    if (!r.ok) return r;
    const v = await add(r.value, r.value);
    if (!v.ok) return v;
  }
  const headers: string[] = [];
  for (const h of headersToo ? c.headers : []) {
    const name = h.slice(0, h.indexOf(':'));
    if (DROPPED.has(name.toLowerCase())) continue;
    const r = await m.headerValue(name, h.slice(name.length + 1));
    if (!r.ok) return r;
    headers.push(`${name}:${r.value}`);
  }
  return { ok: true as const, sender: sender.value, pairs, headers };
}

for (const config of CONFIGS) {
  test(`${config.name}: AddressMapper does what Postfix's cleanup did`, async (t) => {
    const golden = JSON.parse(readFileSync(goldenFile(config), 'utf8')) as Golden;
    const { cfg, log } = setup(t, config);
    const opts = {
      mapping: true,
      bcc: true,
      context: config.context ?? 'local',
      rewriteHeaders: config.rewriteHeaders ?? true,
    };
    const expectDeferred =
      config.deferred === 'unknown' ? config.cases.length - golden.messages.length : (config.deferred ?? 0);
    assert.equal(golden.messages.length, config.cases.length - expectDeferred, 'recorded messages');
    let deferred = 0;
    for (const [k, c] of config.cases.entries()) {
      const m = await AddressMapper.open(cfg, opts);
      const out = await run(m, c, true);
      await m.close();
      if (!out.ok) {
        deferred++;
        assert.equal(
          golden.messages.find((r) => r.case === k),
          undefined,
          `${c.name}: deferred by us, accepted by Postfix`,
        );
        continue;
      }
      const rec = golden.messages.find((r) => r.case === k);
      assert.ok(rec, `${c.name}: accepted by us, deferred by Postfix`);
      assert.equal(out.sender, rec.sender, `${c.name}: envelope sender`);
      // Postfix writes bcc recipients next to the address they came from; elsewhere the order must match.
      const bcc = config.mainCf.some((l) => /bcc/.test(l));
      const sorted = (l: [string, string][]) => (bcc ? [...l].sort() : l);
      assert.deepEqual(sorted(out.pairs), sorted(rec.recipients), `${c.name}: recipients`);
      const names = new Set(c.headers.map((h) => h.slice(0, h.indexOf(':'))));
      const theirs = rec.headers.filter((h) => names.has(h.slice(0, h.indexOf(':'))));
      assert.deepEqual(out.headers, theirs, `${c.name}: headers`);
    }
    assert.equal(deferred, expectDeferred, 'deferred messages');
    // Our first complaint is Postfix's first (Postfix goes on and may say more).
    const complaint = (l: string) =>
      /try again later|multi-valued|unreasonable|stripping|lookup error|unavailable/.test(l);
    assert.equal(log.find(complaint), golden.log.find(complaint));
    for (const line of log.filter(complaint)) assert.ok(golden.log.includes(line), `unexpected: ${line}`);
    await AddressMapper.release(cfg);
  });
}
