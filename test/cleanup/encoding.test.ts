/*
 * The body encoding cleanup records, against Postfix 3.7.11
 * (test/golden/cleanup/encoding, record_encoding.sh): the client's
 * encoding attribute (sendmail -B, passed on by pickup) stays in the
 * envelope, and after the content comes the message's encoding: 8bit
 * when a MIME part declares 8bit or binary, else the client's; 8-bit
 * bytes alone record nothing. Compared through our postcat.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLEANUP_FLAG, CleanupClient } from '../../src/global/cleanup_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import { GOLDEN, ours } from '../harness/index.js';
import { daemonSetup } from './daemon_fixture.js';

/** Subject -> the sendmail -B value the golden message was sent with. */
const FLAG: Record<string, string> = {
  'e3-8bitmime-flag': '8bit',
  'e4-7bit-flag': '7bit',
  'f1-7bitflag-8bitcte': '7bit',
  'f6-7bitcte-flag8': '8bit',
};

interface Recorded {
  readonly subject: string;
  readonly content: Buffer;
  /** "section: named_attribute: encoding=..." lines. */
  readonly encoding: string[];
}

/** The encoding attributes postcat shows, with the section each is in. */
function encodingLines(postcat: string): string[] {
  let section = '';
  const out: string[] = [];
  for (const line of postcat.split('\n')) {
    const s = /^\*\*\* (ENVELOPE RECORDS|MESSAGE CONTENTS|HEADER EXTRACTED|MESSAGE FILE END) /.exec(line);
    if (s) section = s[1] as string;
    else if (line.startsWith('named_attribute: encoding=')) out.push(`${section}: ${line}`);
  }
  return out;
}

function golden(): Recorded[] {
  const text = readFileSync(join(GOLDEN, 'cleanup/encoding/postcat.txt'));
  return text
    .toString('latin1')
    .split(/^=== incoming\/ID\n/m)
    .slice(1)
    .map((part) => {
      const body = part.slice(part.indexOf('\n', part.indexOf('*** MESSAGE CONTENTS')) + 1);
      // Postfix's own headers come first (Received:, two lines); the message follows.
      const content = body.slice(0, body.indexOf('*** HEADER EXTRACTED')).split('\n').slice(2);
      const mine = content.filter((l) => !/^(Message-Id|Date|From): /.test(l)).join('\n');
      const subject = /Subject: (?:caf\S+ )?(\S+)/.exec(mine)?.[1] ?? '';
      return { subject, content: Buffer.from(mine, 'latin1'), encoding: encodingLines(part) };
    });
}

test('encoding attribute: envelope and after the content, as Postfix (encoding golden)', async (t) => {
  const cases = golden();
  assert.equal(cases.length, 13);
  const fx = await daemonSetup(t);
  await fx.start('cleanup');
  const cfg = loadMainConfig({ configDir: fx.conf });
  for (const c of cases) {
    const client = await CleanupClient.open(cfg, CLEANUP_FLAG.MASK_EXTERNAL);
    const flag = FLAG[c.subject];
    await client.envelope({
      arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
      sender: 'alice@example.com',
      recipients: [{ address: 'bob@example.com' }],
      attributes: {
        rewrite_context: 'local',
        origin: 'uid=0',
        full_name: 'root',
        ...(flag === undefined ? {} : { encoding: flag }),
      },
    });
    await client.content(c.content);
    const r = await client.finish();
    assert.equal(r.status, 0, `${c.subject}: ${r.reason}`);
    const files = await fx.waitFiles('incoming', 1);
    assert.equal(files.length, 1);
    const path = files[0] as string;
    const shown = ours('postcat', ['-c', fx.conf, path]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(encodingLines(shown.stdout), c.encoding, c.subject);
    rmSync(path);
  }
});
