/*
 * A message put back into maildrop/ by postsuper -r, as Postfix 3.7.11's
 * pickup takes it (test/golden/cleanup/requeue, record_requeue.sh): the
 * file belongs to $mail_owner, so every attribute (SMTP client, helo,
 * protocol, rewrite context, log_ident...) is kept, the recipient already
 * delivered is not sent again, pickup's Received: line goes on top and
 * the pickup log line names the old queue ID (orig_id). The queue file
 * Postfix had deferred is rebuilt from before.txt; ours comes out as
 * Postfix's after.txt did. A file of another user keeps none of it.
 */
import assert from 'node:assert/strict';
import { chownSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { queueFilePath, queueLayout } from '../../src/global/queue_dirs.js';
import type { QueueRecipient } from '../../src/global/queue_file.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { daemonSetup, normalizeLog, readQueueFile } from '../cleanup/daemon_fixture.js';
import { normalizeContent } from '../cleanup/golden_postcat.js';
import { GOLDEN } from '../harness/index.js';

interface Postcat {
  readonly id: string;
  readonly attributes: Record<string, string>;
  readonly sender: string;
  readonly recipients: (QueueRecipient & { done: boolean })[];
  readonly content: string;
}

/** One postcat listing: envelope attributes and recipients, content. */
function parsePostcat(text: string): Postcat {
  const id = /\*\*\* ENVELOPE RECORDS \S+\/([0-9A-F]+) \*\*\*/.exec(text)?.[1] ?? '';
  const env = text.slice(0, text.indexOf('*** MESSAGE CONTENTS'));
  const attributes: Record<string, string> = {};
  const recipients: (QueueRecipient & { done: boolean })[] = [];
  let sender = '';
  let pend: { orig?: string; dsnOrcpt?: string } = {};
  for (const line of env.split('\n')) {
    const [k, v = ''] = [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)];
    if (k === 'named_attribute') {
      const name = v.slice(0, v.indexOf('='));
      const value = v.slice(v.indexOf('=') + 1);
      if (name === 'dsn_orig_rcpt') pend.dsnOrcpt = value;
      else attributes[name] = value;
    } else if (k === 'sender') sender = v;
    else if (k === 'original_recipient') pend.orig = v;
    else if (k === 'recipient' || k === 'done_recipient') {
      recipients.push({ address: v, ...pend, done: k === 'done_recipient' });
      pend = {};
    }
  }
  const start = text.indexOf('\n', text.indexOf('*** MESSAGE CONTENTS')) + 1;
  const content = text.slice(start, text.indexOf('*** HEADER EXTRACTED'));
  return { id, attributes, sender, recipients, content };
}

const golden = (name: string) =>
  parsePostcat(readFileSync(`${GOLDEN}/cleanup/requeue/${name}.txt`, 'utf8').replace(/^=== \w+\n/, ''));

/** Postfix's deferred file, rebuilt in our maildrop/ and owned by `uid`; pickup's result. */
async function requeue(t: TestContext, mailOwner: string, uid: number) {
  const before = golden('before');
  const fx = await daemonSetup(t, `mail_owner = ${mailOwner}`);
  const layout = queueLayout(loadMainConfig({ configDir: fx.conf }));
  const w = await createQueueFile(layout, { queue: 'maildrop' });
  await w.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: before.sender,
    recipients: before.recipients.map(({ done: _done, ...r }) => r),
    attributes: before.attributes,
  });
  await w.content(Buffer.from(before.content, 'latin1'));
  const id = await w.commit();
  const path = queueFilePath(layout, 'maildrop', id);
  const opened = await openQueueFile(path, { write: true });
  assert.ok(opened.ok);
  for (const r of opened.file.recipients.filter((_, i) => before.recipients[i]?.done))
    await opened.file.markDone(r);
  await opened.file.close();
  if (process.getuid?.() === 0) chownSync(path, uid, -1);
  await fx.start('cleanup');
  await fx.start('pickup');
  await fx.kick();
  const [out] = await fx.waitFiles('incoming', 1);
  assert.ok(out, fx.log());
  return { fx, before, out, back: await readQueueFile(out) };
}

const me = userInfo();

test('postsuper -r: a file of mail_owner keeps its attributes; done recipients stay done (requeue golden)', async (t) => {
  const { fx, before, out, back } = await requeue(t, me.username, me.uid);
  const after = golden('after');
  const file = back.file;
  assert.equal(file.envelope.sender, after.sender);
  assert.deepEqual({ ...file.attributes }, after.attributes);
  assert.deepEqual(
    file.recipients.map((r) => ({ address: r.address, orig: r.orig, dsnOrcpt: r.dsnOrcpt, done: r.done })),
    after.recipients.map((r) => ({ address: r.address, orig: r.orig, dsnOrcpt: r.dsnOrcpt, done: r.done })),
  );
  const id = basename(out);
  const ours = normalizeContent(back.content, id).replace(/from userid \d+\)/, 'from userid N)');
  const theirs = normalizeContent(after.content, after.id)
    .split(before.id)
    .join('OLDID')
    .replace(/from userid \d+\)/, 'from userid N)');
  assert.equal(ours.split(before.id).join('OLDID'), theirs);
  const log = normalizeLog(await fx.waitLog(/message-id=/), [id]);
  assert.ok(
    log.includes(`postfix/pickup[PID]: ID0: uid=${me.uid} from=<${before.sender}> orig_id=${before.id}`),
    log.join('\n'),
  );
});

test('postsuper -r: a file of another user than mail_owner keeps only what any user may set', async (t) => {
  const { back } = await requeue(t, 'nobody', me.uid);
  assert.equal(back.file.attributes.client_address, undefined);
  assert.equal(back.file.attributes.log_ident, undefined);
  assert.match(back.content, /^Received: by mx\.example\.com \(Postfix, from userid \d+\)\n/);
  assert.deepEqual(
    back.file.recipients.map((r) => r.address),
    ['bob@example.net'],
  );
});
