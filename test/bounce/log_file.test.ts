/*
 * The per-message log format (src/bounce/log_file.ts): what we write reads
 * back, and a log Postfix 3.7 wrote reads as well.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatRecord, type LogRecord, parseRecords } from '../../src/bounce/log_file.js';
import { parseDeferLog } from '../../src/showq/listing.js';
import { GOLDEN } from '../harness/index.js';

const REC: LogRecord = {
  recipient: 'bob@example.com',
  origRcpt: 'b@example.com',
  offset: 236,
  dsnOrigRcpt: 'rfc822;b@example.com',
  dsnNotify: 6,
  status: '5.1.1',
  action: 'failed',
  reason: 'host x[192.0.2.1] said: 550 5.1.1 no = such user',
  relay: 'x[192.0.2.1]:25',
  time: 1795602209,
};

test('records read back as written, several to a log', () => {
  const bare: LogRecord = { ...REC, recipient: 'c@example.com', origRcpt: '', dsnOrigRcpt: '', dsnNotify: 0 };
  assert.deepEqual(parseRecords(formatRecord(REC) + formatRecord(bare)), [REC, bare]);
  assert.doesNotMatch(formatRecord(bare), /orig_rcpt|dsn_notify/);
});

test('a record cut short by a crash is skipped, the others stay', () => {
  const text = `${formatRecord(REC)}recipient=torn@example.com\noffset=9\n`;
  assert.deepEqual(parseRecords(text), [REC]);
});

test("Postfix's own defer log (with its old-style reason line) reads too", () => {
  const text = readFileSync(join(GOLDEN, 'bounce/daemon/default/defer-log.txt'), 'utf8');
  const [r, ...rest] = parseRecords(text);
  assert.deepEqual(rest, []);
  assert.equal(r?.recipient, 'carol@mx.example.com');
  assert.equal(r?.dsnOrigRcpt, 'rfc822;carol@mx.example.com');
  assert.deepEqual([r?.status, r?.action, r?.reason], ['4.2.2', 'delayed', 'Mailbox full']);
  // And showq reads ours as it reads Postfix's.
  assert.deepEqual(parseDeferLog(formatRecord(REC)), new Map([[REC.recipient, REC.reason]]));
});
