/*
 * The bounce services against what Postfix 3.7's bounce daemon did with the
 * same messages (test/golden/bounce/daemon/, see its README): which notices
 * are sent and logged for each kind of sender, NOTIFY and notify_classes,
 * and the postmaster copies field by field.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import {
  bounceFlush,
  deferWarn,
  type LogEntry,
  logAppend,
  type PerRecipientLog,
  traceFlush,
} from '../../src/global/bounce_client.js';
import { DSN_NOTIFY_NEVER, DSN_NOTIFY_SUCCESS } from '../../src/global/dsn.js';
import { GOLDEN } from '../harness/index.js';
import { queueMessage, type Setup, setup } from './daemon.js';
import { field, type Headers, type Part, parse } from './dsn_mime.js';

const DIR = join(GOLDEN, 'bounce/daemon');
const HOST = 'mx.example.com';
const CLASSES =
  'notify_classes = bounce, delay\nbounce_notice_recipient = pm@v.test\n2bounce_notice_recipient = dbl@v.test\ndelay_notice_recipient = pm@v.test\n';

interface Scenario {
  readonly sender: string;
  readonly rcpt: string;
  readonly notify?: number;
  readonly log: PerRecipientLog;
}

const BOB = 'bob@mx.example.com';
const CAROL = 'carol@mx.example.com';
const ALICE = 'alice@v.test';
/** s1..s10 of the README, in order. */
const SCENARIOS: readonly Scenario[] = [
  { sender: ALICE, rcpt: BOB, log: 'bounce' },
  { sender: '', rcpt: BOB, log: 'bounce' },
  { sender: ALICE, rcpt: BOB, notify: DSN_NOTIFY_NEVER, log: 'bounce' },
  { sender: ALICE, rcpt: ALICE, notify: DSN_NOTIFY_SUCCESS, log: 'trace' },
  { sender: '', rcpt: ALICE, notify: DSN_NOTIFY_SUCCESS, log: 'trace' },
  { sender: `double-bounce@${HOST}`, rcpt: BOB, log: 'bounce' },
  { sender: ALICE, rcpt: CAROL, log: 'defer' },
  { sender: '', rcpt: CAROL, log: 'defer' },
  { sender: `double-bounce@${HOST}`, rcpt: ALICE, notify: DSN_NOTIFY_SUCCESS, log: 'trace' },
  { sender: `double-bounce@${HOST}`, rcpt: CAROL, log: 'defer' },
];

const OUTCOME: Readonly<Record<PerRecipientLog, Omit<LogEntry, 'recipient'>>> = {
  bounce: { status: '5.1.1', action: 'failed', reason: 'User unknown', relay: 'none' },
  defer: { status: '4.2.2', action: 'delayed', reason: 'Mailbox full', relay: 'none' },
  trace: { status: '2.0.0', action: 'delivered', reason: 'delivered to maildir', relay: 'virtual' },
};

/** A bounce log line with its queue IDs replaced: "ID: sender non-delivery notification: NEW". */
function normalize(line: string, id: string): string {
  return line.replace(id, 'ID').replace(/: [0-9A-F]{6,}$/, ': NEW');
}

/** Postfix's bounce lines per scenario, from a recorded maillog. */
function postfixLines(run: string): string[][] {
  const log = readFileSync(join(DIR, run, 'maillog.txt'), 'utf8').split('\n');
  const ids = log.flatMap((l) => /postfix\/pickup\[\d+\]: ([0-9A-F]+): uid=/.exec(l)?.[1] ?? []);
  assert.equal(ids.length, SCENARIOS.length);
  return ids.map((id) =>
    log.flatMap((l) => {
      const m = /postfix\/bounce\[\d+\]: (.*)$/.exec(l);
      return m?.[1]?.includes(`${id}: `) ? [normalize(m[1], id)] : [];
    }),
  );
}

/** The notice an original in a golden notice came back as: its returned part, Return-Path cut. */
function originalOf(run: string, file: string): string {
  const text = readFileSync(join(DIR, run, file), 'utf8');
  const m = /\nReturn-Path: <[^>]*>\n([\s\S]*?)\n--[^\n]+--\n$/.exec(text);
  assert.ok(m?.[1], `no returned original in ${file}`);
  return m[1].includes('\n\n') ? m[1] : `${m[1]}\n`;
}

async function runScenario(s: Setup, sc: Scenario, content: string): Promise<string> {
  const id = await queueMessage(s.layout, {
    sender: sc.sender,
    recipients: [
      { address: sc.rcpt, dsnOrcpt: `rfc822;${sc.rcpt}`, ...(sc.notify ? { dsnNotify: sc.notify } : {}) },
    ],
    content,
  });
  const recipient = {
    address: sc.rcpt,
    offset: 100,
    dsn_orcpt: `rfc822;${sc.rcpt}`,
    ...(sc.notify ? { dsn_notify: sc.notify } : {}),
  };
  await logAppend(s.cfg, sc.log, id, { recipient, ...OUTCOME[sc.log] });
  const target = { queue_name: 'active', queue_id: id, sender: sc.sender };
  if (sc.log === 'bounce') await bounceFlush(s.cfg, target);
  else if (sc.log === 'defer') await deferWarn(s.cfg, target);
  else await traceFlush(s.cfg, target);
  return id;
}

async function ourLines(t: TestContext, extra: string): Promise<{ s: Setup; lines: string[][] }> {
  const s = await setup(t, `${extra}delay_warning_time = 1h\n`, HOST);
  await Promise.all([s.start('bounce'), s.start('defer'), s.start('trace')]);
  const lines: string[][] = [];
  for (const sc of SCENARIOS) {
    const id = await runScenario(s, sc, 'Subject: s\n\nbody\n');
    lines.push(
      s
        .log()
        .split('\n')
        .flatMap((l) => {
          const m = /postfix\/bounce\[\d+\]: (.*)$/.exec(l);
          return m?.[1]?.includes(`${id}: `) ? [normalize(m[1], id)] : [];
        }),
    );
  }
  return { s, lines };
}

test('which notices are sent and logged: as Postfix with the default notify_classes', async (t) => {
  const { lines } = await ourLines(t, '');
  assert.deepEqual(lines, postfixLines('default'));
});

test('which notices are sent and logged: as Postfix with notify_classes = bounce, delay', async (t) => {
  const { lines } = await ourLines(t, CLASSES);
  assert.deepEqual(lines, postfixLines('classes'));
});

/**
 * What must agree between two notices. Not compared: what differs by
 * nature (dates, queue IDs, the boundary, what delivery and cleanup add on
 * top) and the template's own wording (Subject, From: Postroom's words).
 */
function shape(p: Part, top = true, boiler = false): unknown {
  const skip = top
    ? /^(Date|From|Subject|Content-Type|Message-Id|Return-Path|X-Original-To|Delivered-To|Received)$/i
    : /^(Arrival-Date|Will-Retry-Until|X-Postfix-Queue-ID)$/i;
  const keep = (h: Headers) => h.filter(([k]) => !skip.test(k));
  return {
    type: p.type,
    headers: keep(p.headers),
    // The template's text is Postroom's own wording: compare from the first recipient paragraph.
    parts: p.parts?.map((x, i) =>
      shape(i === 0 && boiler && x.text ? { ...x, text: x.text.slice(x.text.indexOf('\n<') + 1) } : x, false),
    ),
    blocks: p.blocks?.map(keep),
    text: p.text,
    message: p.message ? shape(p.message, false) : undefined,
  };
}

async function compareNotice(
  t: TestContext,
  scenario: Scenario,
  golden: string,
  pick: (s: Setup) => { content: string; recipients: string[]; sender: string },
  boiler = false,
): Promise<Part> {
  const s = await setup(t, `${CLASSES}delay_warning_time = 1h\n`, HOST);
  await s.start(scenario.log);
  await runScenario(s, scenario, originalOf('classes', golden));
  const ours = pick(s);
  const theirs = parse(readFileSync(join(DIR, 'classes', golden)));
  const top = parse(ours.content);
  // The envelope, as Postfix's delivery agent recorded it in Return-Path and Delivered-To.
  assert.equal(`<${ours.sender}>`, field(theirs.headers, 'Return-Path'));
  assert.deepEqual(ours.recipients, [field(theirs.headers, 'Delivered-To')]);
  assert.deepEqual(shape(top, true, boiler), shape(theirs, true, boiler));
  return top;
}

test('postmaster copy of a non-delivery notice: as Postfix wrote it (pm-1.eml)', async (t) => {
  const top = await compareNotice(t, SCENARIOS[0]!, 'pm-1.eml', (s) => s.cleanup.messages[1]!);
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.failure.postmasterSubject);
});

test('double bounce to 2bounce_notice_recipient: as Postfix wrote it (dbl-1.eml)', async (t) => {
  await compareNotice(t, SCENARIOS[1]!, 'dbl-1.eml', (s) => s.cleanup.messages[0]!);
});

test('postmaster copy of a delay notice: as Postfix wrote it (pm-3.eml)', async (t) => {
  const top = await compareNotice(t, SCENARIOS[6]!, 'pm-3.eml', (s) => s.cleanup.messages[1]!);
  assert.equal(field(top.headers, 'Subject'), DEFAULT_TEMPLATES.delay.postmasterSubject);
});

test('the sender notices, but for the template wording: as Postfix wrote them (alice-1, -3, -5)', async (t) => {
  const failure = await compareNotice(t, SCENARIOS[0]!, 'alice-1.eml', (s) => s.cleanup.messages[0]!, true);
  assert.equal(field(failure.headers, 'Subject'), DEFAULT_TEMPLATES.failure.subject);
  const success = await compareNotice(t, SCENARIOS[3]!, 'alice-3.eml', (s) => s.cleanup.messages[0]!, true);
  assert.equal(field(success.headers, 'Subject'), DEFAULT_TEMPLATES.success.subject);
  const delay = await compareNotice(t, SCENARIOS[6]!, 'alice-5.eml', (s) => s.cleanup.messages[0]!, true);
  assert.equal(field(delay.headers, 'Subject'), DEFAULT_TEMPLATES.delay.subject);
});
