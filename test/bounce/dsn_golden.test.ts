/*
 * Notices compared with those Postfix 3.7 wrote (test/golden/bounce/dsn/,
 * see its README): for the same message and outcomes, ours has the same
 * top-level header fields in the same order, the same boundary, parts,
 * part labels, delivery-status fields and values, recipient paragraphs
 * part headers including Content-Transfer-Encoding, and returned
 * original. Not compared: template wording (ours is our own) and
 * Message-Id (cleanup adds it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { composeNotice, noticeSettings } from '../../src/bounce/dsn_notice.js';
import type { DsnRecipient } from '../../src/bounce/dsn_types.js';
import type { TemplateKind } from '../../src/bounce/template.js';
import { loadTemplates } from '../../src/bounce/template_load.js';
import { loadMainConfig } from '../../src/global/config.js';
import { DSN_RET_HDRS, type DsnRet } from '../../src/global/dsn.js';
import { configDir, GOLDEN } from '../harness/index.js';
import { field, type Headers, type Part, parse } from './dsn_mime.js';

const xpostfix = (address: string, action: DsnRecipient['action'], status: string, reason: string) => ({
  address,
  original: address,
  action,
  status,
  reason,
  diagnosticType: 'X-Postfix',
  diagnostic: reason,
});
const BOB = xpostfix('bob@mx.example.org', 'failed', '5.1.1', 'User unknown');
const CAROL = xpostfix('carol@mx.example.org', 'delayed', '4.2.2', 'Mailbox full');
const ALICE = xpostfix(
  'alice@virt.example',
  'delivered',
  '2.0.0',
  'delivery via virtual: delivered to maildir',
);

const BODY = 'Shall we?\n\n-- \nalice\n';
const LONG_BODY = `${BODY}${Array.from({ length: 40 }, (_, i) => `line ${i + 1} ${'x'.repeat(58)}\n`).join('')}`;

interface Case {
  file: string;
  kind: TemplateKind;
  ret: DsnRet;
  envId?: string;
  recipients: DsnRecipient[];
  body: string;
}
const CASES: Case[] = [
  { file: 'failure-full', kind: 'failure', ret: 0, recipients: [BOB], body: BODY },
  {
    file: 'failure-hdrs-envid',
    kind: 'failure',
    ret: DSN_RET_HDRS,
    envId: 'envid123',
    recipients: [BOB],
    body: BODY,
  },
  { file: 'delay', kind: 'delay', ret: DSN_RET_HDRS, envId: 'envid123', recipients: [CAROL], body: BODY },
  { file: 'success', kind: 'success', ret: 0, recipients: [ALICE], body: BODY },
  { file: 'failure-size-limit', kind: 'failure', ret: 0, recipients: [BOB], body: LONG_BODY },
];

const IGNORED = new Set(['message-id']);
const DATES = new Set(['date', 'arrival-date', 'will-retry-until']);

/** Header fields as compared: ignored ones dropped, dates as instants. */
function shape(h: Headers): Headers {
  return h
    .filter(([k]) => !IGNORED.has(k.toLowerCase()))
    .map(([k, v]) => [k, DATES.has(k.toLowerCase()) ? String(Date.parse(v)) : v]);
}

/** The recipient paragraphs: everything after the template text. */
function paragraphs(text: string | undefined, first: string): string {
  const t = text ?? '';
  return t.slice(t.indexOf(first));
}

function check(t: TestContext, c: Case): void {
  const raw = readFileSync(join(GOLDEN, 'bounce/dsn', `${c.file}.eml`));
  const golden = parse(raw);
  const [gHuman, gReport, gOriginal] = golden.parts as [Part, Part, Part];
  const gFields = gReport.blocks?.[0] as Headers;
  const boundary = golden.params.boundary ?? '';
  const secs = Number(/\.(\d+)\//.exec(boundary)?.[1]);
  // The original as Postfix returned it: the header section after its Return-Path.
  const returned = raw.toString().split(/\nContent-Description: (?:Undelivered )?Message.*\n/)[1] ?? '';
  const original = returned.slice(returned.indexOf('\n\n') + 2);
  const headers = original.slice(original.indexOf('\n') + 1, original.indexOf('\n\n') + 1);
  const dir = configDir(
    t,
    'compatibility_level = 3.6\nmyhostname = mx.example.org\nbounce_size_limit = 2000\n',
  );
  const cfg = loadMainConfig({ configDir: dir });
  const retry = field(gReport.blocks?.[1] ?? [], 'Will-Retry-Until');
  const ours = composeNotice(loadTemplates(cfg), noticeSettings(cfg), {
    kind: c.kind,
    message: {
      queueId: field(gFields, 'X-Postfix-Queue-ID') ?? '',
      sender: 'alice@virt.example',
      arrival: new Date(Date.parse(field(gFields, 'Arrival-Date') ?? '')),
      envId: c.envId,
      ret: c.ret,
      headers,
      body: c.body,
    },
    recipients: c.recipients,
    now: new Date(secs * 1000),
    willRetryUntil: retry === undefined ? undefined : new Date(Date.parse(retry)),
  });
  const mine = parse(ours.text);
  assert.deepEqual(mine.defects, []);
  const names = (h: Headers) => shape(h).map(([k]) => k);
  assert.deepEqual(names(mine.headers), names(golden.headers), 'top-level header fields, in order');
  for (const k of ['From', 'To', 'Auto-Submitted', 'MIME-Version', 'Date']) {
    assert.deepEqual(
      shape(mine.headers).find(([n]) => n === k),
      shape(golden.headers).find(([n]) => n === k),
      k,
    );
  }
  assert.deepEqual(mine.params, golden.params, 'multipart/report parameters, boundary');
  const parts = (p: Part) => (p.parts ?? []).map((x) => [x.type, shape(x.headers)]);
  assert.deepEqual(parts(mine), parts(golden), 'part types and part headers');
  const [human, report, returnedPart] = mine.parts as [Part, Part, Part];
  assert.deepEqual(report.blocks?.map(shape), gReport.blocks?.map(shape), 'delivery-status fields');
  const first = `<${c.recipients[0]?.address}>`;
  assert.equal(paragraphs(human.text, first), paragraphs(gHuman.text, first), 'recipient paragraphs');
  assert.deepEqual(
    returnedPart.message ?? returnedPart.text,
    gOriginal.message ?? gOriginal.text,
    'the original',
  );
}

for (const c of CASES) {
  test(`as Postfix: ${c.file}`, (t) => check(t, c));
}
