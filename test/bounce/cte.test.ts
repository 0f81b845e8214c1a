/*
 * Content-Transfer-Encoding on notices, part by part, as Postfix 3.7 puts
 * it (test/golden/bounce/cte/, recorded by its record.sh with
 * smtputf8_enable = no; test/golden/bounce/dsn/ with the default yes):
 * 8bit on the top level, the text and the returned original when SMTPUTF8
 * is enabled or cleanup recorded an 8-bit body (the us-ascii template is
 * then labelled utf-8), never on the delivery report of an ASCII notice,
 * and nothing at all otherwise, even for an original with 8-bit bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { composeNotice, noticeSettings } from '../../src/bounce/dsn_notice.js';
import { readOriginal } from '../../src/bounce/original.js';
import type { TemplateKind } from '../../src/bounce/template.js';
import { loadTemplates } from '../../src/bounce/template_load.js';
import { loadMainConfig } from '../../src/global/config.js';
import { createQueueDirs, queueLayout } from '../../src/global/queue_dirs.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { configDir, GOLDEN, tempDir } from '../harness/index.js';
import { field, type Part, parse } from './dsn_mime.js';

/** Content-Type (with charset) and Content-Transfer-Encoding of the top level and each part. */
function encodings(p: Part): string[] {
  const one = (x: Part) => {
    const charset = x.params.charset !== undefined ? `; charset=${x.params.charset}` : '';
    return `${x.type}${charset} cte=${field(x.headers, 'Content-Transfer-Encoding') ?? '-'}`;
  };
  return [one(p), ...(p.parts ?? []).map(one)];
}

interface Extra {
  /** main.cf lines. */
  readonly cf?: string;
  readonly headers?: string;
  /** The message came with SMTPUTF8. */
  readonly utf8?: boolean;
}

function ours(
  t: TestContext,
  smtputf8: string,
  kind: TemplateKind,
  body: string,
  encoding?: string,
  x: Extra = {},
): string[] {
  const dir = configDir(
    t,
    `compatibility_level = 3.6\nmyhostname = mx.example.com\nsmtputf8_enable = ${smtputf8}\n${x.cf ?? ''}`,
  );
  const cfg = loadMainConfig({ configDir: dir });
  const n = composeNotice(loadTemplates(cfg), noticeSettings(cfg), {
    kind,
    message: {
      queueId: 'D791B22E0E2',
      sender: 'alice@v.test',
      arrival: new Date('2026-11-25T12:33:24Z'),
      ret: 0,
      encoding,
      smtputf8: x.utf8,
      headers: x.headers ?? 'Subject: x\n',
      body,
    },
    recipients: [
      {
        address: 'bob@mx.example.com',
        original: 'bob@mx.example.com',
        action: kind === 'failure' ? 'failed' : kind === 'delay' ? 'delayed' : 'delivered',
        status: kind === 'failure' ? '5.1.1' : kind === 'delay' ? '4.2.2' : '2.0.0',
        reason: 'User unknown',
        diagnosticType: 'X-Postfix',
        diagnostic: 'User unknown',
      },
    ],
  });
  return encodings(parse(n.text));
}

const postfix = (dir: string, name: string) =>
  encodings(parse(readFileSync(join(GOLDEN, 'bounce', dir, name))));

const EIGHT = 'b\u00e9b\u00e9\n';
const CASES: [string, string, string, TemplateKind, string, string | undefined][] = [
  ['7-bit original, smtputf8_enable = no', 'cte', 'failure-f7.eml', 'failure', 'body\n', undefined],
  ['8-bit bytes, no encoding declared', 'cte', 'failure-f8.eml', 'failure', EIGHT, undefined],
  ['sendmail -B 8BITMIME', 'cte', 'failure-b8.eml', 'failure', EIGHT, '8bit'],
  ['MIME part declaring 8bit', 'cte', 'failure-m8.eml', 'failure', EIGHT, '8bit'],
  ['delay warning, 8-bit bytes', 'cte', 'delay-d8.eml', 'delay', EIGHT, undefined],
  ['success notice, 8-bit bytes', 'cte', 'success-s8.eml', 'success', EIGHT, undefined],
  ['sendmail -bv report', 'cte', 'verify-v7.eml', 'verify', 'body\n', undefined],
  ['7-bit original, smtputf8_enable = yes', 'dsn', 'failure-full.eml', 'failure', 'body\n', undefined],
  ['delay warning, smtputf8_enable = yes', 'dsn', 'delay.eml', 'delay', 'body\n', undefined],
  ['success notice, smtputf8_enable = yes', 'dsn', 'success.eml', 'success', 'body\n', undefined],
];

for (const [name, dir, file, kind, body, encoding] of CASES) {
  test(`Content-Transfer-Encoding as Postfix: ${name}`, (t) => {
    const smtputf8 = dir === 'dsn' ? 'yes' : 'no';
    assert.deepEqual(ours(t, smtputf8, kind, body, encoding), postfix(dir, file));
  });
}

/** record-template.sh: an iso-8859-1 failure template with ASCII text. */
const TEMPLATE =
  'failure_template = <<EOF\nCharset: iso-8859-1\nFrom: MAILER-DAEMON (Mail Delivery System)\n' +
  'Subject: Undelivered Mail Returned to Sender\n\nPlain ASCII text.\nEOF\n';

for (const [smtputf8, name, utf8] of [
  ['no', 't7', false],
  ['no', 'h8', false],
  ['yes', 't7', false],
  ['yes', 'h8', true],
] as const) {
  test(`Content-Transfer-Encoding as Postfix: iso-8859-1 template, smtputf8_enable = ${smtputf8}, ${name}`, (t) => {
    const file = join(tempDir(t), 'bounce.cf');
    writeFileSync(file, TEMPLATE);
    // h8: an 8-bit Subject, which makes the message SMTPUTF8 when that is enabled (autodetection).
    const headers = name === 'h8' ? 'Subject: h8 b\u00e9\n' : 'Subject: t7\n';
    const mine = ours(t, smtputf8, 'failure', 'body\n', undefined, {
      cf: `bounce_template_file = ${file}\n`,
      headers,
      utf8,
    });
    assert.deepEqual(mine, postfix('cte', `template-${smtputf8}-${name}.eml`));
  });
}

test('the body encoding cleanup recorded reaches the notice from the queue file', async (t) => {
  const queue = tempDir(t);
  const cfg = loadMainConfig({ configDir: configDir(t, `queue_directory = ${queue}\n`) });
  const layout = queueLayout(cfg);
  await createQueueDirs(layout);
  const ids: string[] = [];
  for (const attributes of [{ encoding: '8bit' }, {}] as Record<string, string>[]) {
    const w = await createQueueFile(layout, { queue: 'active' });
    await w.envelope({
      arrival: { sec: 1795610004, usec: 0 },
      sender: 'a@v.test',
      recipients: [{ address: 'b@v.test' }],
      attributes,
    });
    await w.content(Buffer.from('Subject: x\n\nb\u00e9\n'));
    ids.push(await w.commit());
  }
  const read = (queueId: string) => readOriginal(layout, { queueName: 'active', queueId, sizeLimit: 50000 });
  assert.equal((await read(ids[0] as string)).encoding, '8bit');
  assert.equal((await read(ids[1] as string)).encoding, undefined);
});
