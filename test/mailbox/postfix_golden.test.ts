/*
 * Our mbox and Maildir output against files written by Postfix 3.7.11's
 * virtual(8) for the same messages (test/golden/mailbox/RECORDED.md).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { deliverMaildir } from '../../src/global/maildir.js';
import { deliverMbox } from '../../src/global/mbox.js';
import { deliveryHeaders } from '../../src/local/mailbox_copy.js';
import { GOLDEN, tempDir } from '../harness/index.js';
import { cut } from './helpers.js';

process.env.TZ = 'UTC';
const DIR = join(GOLDEN, 'mailbox');
const WHEN = new Date('2026-11-25T10:12:24Z');

/** The message content as the queue file held it (what follows the delivery headers). */
function content(id: string, subject: string, from: string, body: string): string {
  return (
    `Received: by mx.example.com (Postfix, from userid 0)\n\tid ${id}; Wed, 25 Nov 2026 10:12:24 +0000 (UTC)\n` +
    `Subject: ${subject}\nMessage-Id: <20261125101224.${id}@mx.example.com>\n` +
    `Date: Wed, 25 Nov 2026 10:12:24 +0000 (UTC)\nFrom: ${from}\n\n${body}`
  );
}
const FIRST = content(
  '50171224B42',
  'golden',
  'root <alice@example.com>',
  'From here\n>From there\nFrom\nlast',
);
const SECOND = content('532E3224B9B', 'two', 'MAILER-DAEMON', 'body\n');

test('mbox: the same bytes as Postfix virtual(8) wrote for two deliveries', async (t) => {
  const box = join(tempDir(t), 'mbox');
  const common = {
    path: box,
    lock: ['fcntl', 'dotlock'] as const,
    retry: { attempts: 3, delay: 0.01, stale: 500 },
    now: WHEN,
  };
  await deliverMbox({
    ...common,
    sender: 'alice@example.com',
    prefix: deliveryHeaders({
      returnPath: 'alice@example.com',
      originalRecipient: 'm@v.test',
      deliveredTo: 'm@v.test',
    }),
    content: cut(Buffer.from(FIRST), [200, 250, 251, 290]),
  });
  await deliverMbox({
    ...common,
    sender: '',
    prefix: deliveryHeaders({ returnPath: '', originalRecipient: 'm@v.test', deliveredTo: 'm@v.test' }),
    content: SECOND,
  });
  assert.equal(readFileSync(box, 'latin1'), readFileSync(join(DIR, 'postfix-virtual-mbox.txt'), 'latin1'));
});

test('Maildir: the same bytes and the same name pattern as Postfix virtual(8)', async (t) => {
  const md = join(tempDir(t), 'u', 'Maildir');
  const file = await deliverMaildir({
    dir: md,
    hostname: 'vm',
    prefix: deliveryHeaders({
      returnPath: 'alice@example.com',
      originalRecipient: 'u@v.test',
      deliveredTo: 'u@v.test',
    }),
    content: FIRST,
  });
  assert.equal(
    readFileSync(file, 'latin1'),
    readFileSync(join(DIR, 'postfix-virtual-maildir.txt'), 'latin1'),
  );
  const shape = (name: string) => name.replace(/\d+/gu, '9').replace(/V[0-9a-f]+I[0-9a-f]+M/u, 'V9I9M');
  assert.equal(
    shape(basename(file)),
    shape(readFileSync(join(DIR, 'postfix-virtual-maildir.name'), 'utf8').trim()),
  );
  assert.deepEqual(readdirSync(md).sort(), ['cur', 'new', 'tmp']);
});

test('mbox: local(8) to a spool mailbox, with a quoted sender and mixed case (addresses are written as given)', async (t) => {
  const box = join(tempDir(t), 'nobody');
  const sender = '"odd sender"@Example.COM';
  await deliverMbox({
    path: box,
    sender,
    lock: ['fcntl', 'dotlock'],
    retry: { attempts: 3, delay: 0.01, stale: 500 },
    now: new Date('2026-11-25T10:13:03Z'),
    prefix: deliveryHeaders({
      returnPath: sender,
      originalRecipient: 'NoBody',
      deliveredTo: 'NoBody@mx.example.com',
    }),
    content:
      'Received: by mx.example.com (Postfix, from userid 0)\n\tid B1B402244D3; Wed, 25 Nov 2026 10:13:03 +0000 (UTC)\n' +
      'Subject: local\nMessage-Id: <20261125101303.B1B402244D3@mx.example.com>\n' +
      `Date: Wed, 25 Nov 2026 10:13:03 +0000 (UTC)\nFrom: root <${sender}>\n\nFrom here\nlast\n`,
  });
  assert.equal(readFileSync(box, 'latin1'), readFileSync(join(DIR, 'postfix-local-mbox.txt'), 'latin1'));
});
