/*
 * listing - the queue listing of mailq / postqueue -p, and postqueue -j
 *
 *   const text = await listQueue(cfg);          // what mailq prints
 *   const json = await listQueueJson(cfg);      // postqueue -j: one object a line
 *
 * formatListing() and formatJson() are pure functions over QueuedMessage
 * values; scanMessages() builds those from the queue files in maildrop,
 * active, incoming, deferred and hold (the order Postfix's showq lists
 * them in), sorted by queue ID within a queue so the output is stable.
 *
 * Text layout (recorded from Postfix 3.7, test/golden/showq): a header
 * line; per message a line with the queue ID and its marks ('*' active,
 * '!' hold, then '#' forced expiration), the message size, the arrival time and the sender
 * (MAILER-DAEMON for the null sender); then each recipient still to
 * deliver, under the sender, after the "(reason)" line of its deferral
 * (right-aligned to column 78); a blank line; finally
 * "-- N Kbytes in M Requests." (whole Kbytes, rounded down) or
 * "Mail queue is empty".
 *
 * Delay reasons come from the message's log in the defer queue: records of
 * "name=value" lines (recipient=..., reason=...) separated by blank lines,
 * as Postfix's bounce daemon keeps them. Files that cannot be read (torn,
 * damaged, gone meanwhile) are left out, as showq skips them.
 */

import { readFile, stat } from 'node:fs/promises';
import type { MainConfig } from '../global/config.js';
import { type QueueLayout, queueFilePath, queueLayout, scanQueue } from '../global/queue_dirs.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { showqTime } from './time.js';

/** The queues showq lists, in its order. */
export const SHOWQ_QUEUES: readonly string[] = ['maildrop', 'active', 'incoming', 'deferred', 'hold'];

export interface QueuedRecipient {
  readonly address: string;
  /** Why delivery was deferred, if it was. */
  readonly reason?: string;
}

export interface QueuedMessage {
  readonly queue: string;
  readonly id: string;
  /** Arrival time, seconds since the epoch. */
  readonly arrival: number;
  /** Message size in bytes. */
  readonly size: number;
  /** Envelope sender; "" is the null sender. */
  readonly sender: string;
  readonly forcedExpire: boolean;
  /** Recipients not yet done, in file order. */
  readonly recipients: readonly QueuedRecipient[];
}

const HEADER = '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n';
/** Recipients start in the sender's column. */
const INDENT = ' '.repeat(41);
/** Reason lines end in this column, or start at the margin when longer. */
const REASON_WIDTH = 78;

const STATUS: Readonly<Record<string, string>> = { active: '*', hold: '!' };

/** showq names the null sender MAILER-DAEMON, in the text and in JSON alike. */
function senderName(sender: string): string {
  return sender === '' ? 'MAILER-DAEMON' : sender;
}

function messageText(m: QueuedMessage): string {
  // The mark follows the ID; an 11-character ID with a mark pushes the line right, as in Postfix.
  // A forced expiration (postsuper -e) adds '#' after the queue's mark, as Postfix shows it.
  const idStatus = m.id + (STATUS[m.queue] ?? '') + (m.forcedExpire ? '#' : '');
  const lines = [
    `${idStatus.padEnd(11, ' ')} ${String(m.size).padStart(7, ' ')} ${showqTime(m.arrival).padEnd(20, ' ')} ${senderName(m.sender)}\n`,
  ];
  let lastReason: string | undefined;
  for (const r of m.recipients) {
    // A reason line heads the run of recipients deferred for that reason.
    if (r.reason !== undefined && r.reason !== lastReason)
      lines.push(`${`(${r.reason})`.padStart(REASON_WIDTH, ' ')}\n`);
    lastReason = r.reason;
    lines.push(`${INDENT}${r.address}\n`);
  }
  lines.push('\n');
  return lines.join('');
}

/** The mailq / postqueue -p text for these messages. */
export function formatListing(messages: readonly QueuedMessage[]): string {
  if (messages.length === 0) return 'Mail queue is empty\n';
  let bytes = 0;
  const out = [HEADER];
  for (const m of messages) {
    out.push(messageText(m));
    bytes += m.size;
  }
  const n = messages.length;
  out.push(`-- ${Math.floor(bytes / 1024)} Kbytes in ${n} Request${n === 1 ? '' : 's'}.\n`);
  return out.join('');
}

/** A JSON string as postqueue writes it: quotes, backslashes and controls escaped; UTF-8 as is. */
export function jsonString(text: string): string {
  return `"${text.replace(/[\u0000-\u001f"\\\u007f]/gu, (c) => {
    const short: Record<string, string> = {
      '"': '\\"',
      '\\': '\\\\',
      '\b': '\\b',
      '\f': '\\f',
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t',
    };
    return short[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  })}"`;
}

/** postqueue -j: one JSON object a line, members in Postfix's order and spacing. */
export function formatJson(messages: readonly QueuedMessage[]): string {
  return messages
    .map((m) => {
      const rcpts = m.recipients.map(
        (r) =>
          `{"address": ${jsonString(r.address)}${r.reason === undefined ? '' : `, "delay_reason": ${jsonString(r.reason)}`}}`,
      );
      return `{"queue_name": ${jsonString(m.queue)}, "queue_id": ${jsonString(m.id)}, "arrival_time": ${m.arrival}, "message_size": ${m.size}, "forced_expire": ${m.forcedExpire}, "sender": ${jsonString(senderName(m.sender))}, "recipients": [${rcpts.join(', ')}]}\n`;
    })
    .join('');
}

/** Parse a defer log: recipient → reason (the last record for a recipient wins). */
export function parseDeferLog(text: string): Map<string, string> {
  const reasons = new Map<string, string>();
  for (const block of text.split(/\n\n+/)) {
    let rcpt: string | undefined;
    let reason: string | undefined;
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const name = line.slice(0, eq);
      if (name === 'recipient') rcpt = line.slice(eq + 1);
      else if (name === 'reason') reason = line.slice(eq + 1);
    }
    if (rcpt !== undefined && reason !== undefined) reasons.set(rcpt, reason);
  }
  return reasons;
}

async function deferReasons(layout: QueueLayout, id: string): Promise<Map<string, string>> {
  try {
    return parseDeferLog(await readFile(queueFilePath(layout, 'defer', id), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
}

/** The messages in the queues showq lists, one at a time (a queue may be larger than memory). */
export async function* queuedMessages(layout: QueueLayout): AsyncGenerator<QueuedMessage> {
  for (const queue of SHOWQ_QUEUES) {
    const files: { id: string; path: string }[] = [];
    for await (const f of scanQueue(layout, queue)) files.push(f);
    files.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const { id, path } of files) {
      const r = await openQueueFile(path);
      if (!r.ok) continue;
      try {
        const env = r.file.envelope;
        // The defer log is found by queue ID, whichever queue the message is in.
        const reasons = await deferReasons(layout, id);
        // postsuper -e marks forced expiration in the file mode (src/postsuper/ops.ts).
        const mode = await stat(path).then(
          (st) => st.mode,
          () => 0,
        );
        yield {
          queue,
          id,
          arrival: env.arrival.sec,
          size: r.file.contentLength,
          sender: env.sender,
          forcedExpire: (mode & 0o010) !== 0,
          recipients: r.file.pending.map((rc) => {
            const reason = reasons.get(rc.address);
            return reason === undefined ? { address: rc.address } : { address: rc.address, reason };
          }),
        };
      } finally {
        await r.file.close();
      }
    }
  }
}

/** The messages in the queues showq lists. */
export async function scanMessages(layout: QueueLayout): Promise<QueuedMessage[]> {
  const out: QueuedMessage[] = [];
  for await (const m of queuedMessages(layout)) out.push(m);
  return out;
}

/**
 * The listing in pieces, as formatListing/formatJson would print it whole:
 * a service streams it to its client without holding the queue in memory.
 */
export async function* listingChunks(layout: QueueLayout, format: 'text' | 'json'): AsyncGenerator<string> {
  let n = 0;
  let bytes = 0;
  for await (const m of queuedMessages(layout)) {
    if (format === 'json') {
      yield formatJson([m]);
      continue;
    }
    yield (n === 0 ? HEADER : '') + messageText(m);
    n++;
    bytes += m.size;
  }
  if (format === 'json') return;
  if (n === 0) yield 'Mail queue is empty\n';
  else yield `-- ${Math.floor(bytes / 1024)} Kbytes in ${n} Request${n === 1 ? '' : 's'}.\n`;
}

/** What mailq prints for the queue main.cf names. */
export async function listQueue(cfg: MainConfig): Promise<string> {
  return formatListing(await scanMessages(queueLayout(cfg)));
}

/** What postqueue -j prints. */
export async function listQueueJson(cfg: MainConfig): Promise<string> {
  return formatJson(await scanMessages(queueLayout(cfg)));
}
