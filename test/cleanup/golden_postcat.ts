/*
 * golden_postcat - read the messages Postfix's cleanup wrote, as recorded
 * by test/golden/cleanup/record_daemon*.sh (postcat output of each queue
 * file), in a form comparable with ours: queue ID, dates and time stamps
 * replaced by ID, DATE and STAMP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN } from '../harness/index.js';

export interface GoldenMessage {
  readonly queue: string;
  readonly sender: string;
  readonly recipients: string[];
  readonly origRecipients: string[];
  /** The content, normalized (see normalizeContent). */
  readonly content: string;
}

const DATE = /\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}( \(UTC\))?/g;

export function normalizeContent(text: string, queueId: string): string {
  return text
    .split(queueId)
    .join('ID')
    .replace(DATE, 'DATE')
    .replace(/<\d{14}\./g, '<STAMP.');
}

export function goldenMessages(set: string): GoldenMessage[] {
  const text = readFileSync(join(GOLDEN, 'cleanup', set, 'postcat.txt'), 'utf8');
  const out: GoldenMessage[] = [];
  for (const part of text.split(/^=== /m).slice(1)) {
    const queue = part.slice(0, part.indexOf('/'));
    const id = /\*\*\* ENVELOPE RECORDS \S+\/([0-9A-F]+) \*\*\*/.exec(part)?.[1] ?? '';
    const lines = part.split('\n');
    const sender = lines.find((l) => l.startsWith('sender: '))?.slice('sender: '.length) ?? '';
    const recipients = lines.filter((l) => l.startsWith('recipient: ')).map((l) => l.slice(11));
    const origRecipients = lines.filter((l) => l.startsWith('original_recipient: ')).map((l) => l.slice(20));
    const start = part.indexOf('*** MESSAGE CONTENTS');
    const end = part.indexOf('*** HEADER EXTRACTED');
    const body = part.slice(part.indexOf('\n', start) + 1, end);
    out.push({ queue, sender, recipients, origRecipients, content: normalizeContent(body, id) });
  }
  return out;
}

/** The golden message whose content has this Subject:. */
export function goldenBySubject(set: string, subject: string): GoldenMessage {
  const m = goldenMessages(set).find((g) => g.content.includes(`\nSubject: ${subject}\n`));
  if (!m) throw new Error(`no golden message with Subject: ${subject} in ${set}`);
  return m;
}
