/*
 * submit - turn sendmail's standard input into a maildrop queue file
 *
 * messageLines() applies the input rules of Postfix's sendmail: lines
 * end in LF (CRLF becomes LF when sendmail_fix_line_endings = always, or
 * when strict and the first line ends in CRLF), a leading "From " line is
 * dropped, a line holding only "." ends the message unless -i, a last
 * line without LF gets one, every byte is kept (8-bit, NUL). It stops as
 * soon as the content passes message_size_limit.
 *
 * submitMessage() streams those lines into maildrop/: only a -t header is
 * held in memory (its recipients go to the extracted section, its Bcc
 * headers are dropped); a 200 MB body costs about 100 MB of RSS, most of
 * it Node itself. writeMaildrop() does the same for a message already in
 * memory (postdrop).
 *
 * Both write with the durable queue file writer:
 * the file appears in maildrop/ under its queue ID only once complete and
 * synced; a failure leaves nothing behind.
 */

import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { QueueLayout } from '../global/queue_dirs.js';
import type { QueueRecipient } from '../global/queue_file.js';
import { createQueueFile } from '../global/queue_file_writer.js';
import { triggerPath } from '../master/trigger.js';
import { extractRecipients, isBcc, splitHeader } from './headers.js';

export type FixEndings = 'always' | 'strict' | 'never';

/** The content passed message_size_limit. */
export class MessageTooBig extends Error {}

/**
 * The message's lines, as read; throws MessageTooBig as soon as the
 * content passes sizeLimit (0: no limit). Lines are latin1 strings: one
 * char per byte, so 8-bit and invalid UTF-8 survive unchanged.
 */
export async function* messageLines(
  input: Readable,
  opts: { ignoreDots: boolean; fix: FixEndings; sizeLimit: number },
): AsyncGenerator<string> {
  let size = 0;
  let rest = '';
  let first = true;
  // strict: CRLF is taken as the line end only when the first line uses it.
  let stripCr = opts.fix === 'always';
  const over = (n: number) => opts.sizeLimit > 0 && n > opts.sizeLimit;
  for await (const chunk of input) {
    const parts = (rest + (chunk as Buffer).toString('latin1')).split('\n');
    rest = parts.pop() as string;
    for (let line of parts) {
      if (first) {
        first = false;
        if (opts.fix === 'strict') stripCr = line.endsWith('\r');
        // A leading mbox "From " line is not part of the message, as in Postfix.
        if (line.startsWith('From ')) continue;
      }
      if (stripCr && line.endsWith('\r')) line = line.slice(0, -1);
      if (!opts.ignoreDots && line === '.') return;
      size += line.length + 1;
      if (over(size)) throw new MessageTooBig();
      yield line;
    }
    if (over(size + rest.length)) throw new MessageTooBig();
  }
  if (rest !== '' && !(first && rest.startsWith('From '))) {
    const line = stripCr && rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    if (!opts.ignoreDots && line === '.') return;
    if (over(size + line.length + 1)) throw new MessageTooBig();
    yield line;
  }
}

/** With -t: the header's recipients, and the content without Bcc headers. */
export function extractFromHeader(lines: readonly string[]): { recipients: string[]; lines: string[] } {
  const { headers, end } = splitHeader(lines);
  // Lines hold one char per byte; addresses are stored as UTF-8 text.
  const recipients = extractRecipients(headers).map((a) => Buffer.from(a, 'latin1').toString('utf8'));
  const kept = headers.filter((h) => !isBcc(h)).flatMap((h) => h.lines);
  return { recipients, lines: [...kept, ...lines.slice(end)] };
}

export interface MaildropMessage {
  readonly sender: string;
  readonly recipients: readonly QueueRecipient[];
  /** Recipients found in the header (-t), stored after the content. */
  readonly extracted: readonly QueueRecipient[];
  readonly attributes: Readonly<Record<string, string>>;
  readonly dsnEnvid?: string;
  readonly dsnRet?: number;
  readonly lines: readonly string[];
}

/** Write the message into maildrop/; resolves with its queue ID once it is safe on disk. */
export async function writeMaildrop(layout: QueueLayout, m: MaildropMessage): Promise<string> {
  const w = await createQueueFile(layout, { queue: 'maildrop' });
  try {
    const now = Date.now();
    await w.envelope({
      arrival: { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 },
      sender: m.sender,
      recipients: m.recipients,
      attributes: m.attributes,
      ...(m.dsnEnvid === undefined ? {} : { dsnEnvid: m.dsnEnvid }),
      ...(m.dsnRet === undefined ? {} : { dsnRet: m.dsnRet }),
    });
    const BATCH = 256;
    for (let i = 0; i < m.lines.length; i += BATCH) {
      const text = m.lines.slice(i, i + BATCH).join('\n') + '\n';
      await w.content(Buffer.from(text, 'latin1'));
    }
    if (m.lines.length === 0) await w.content(Buffer.alloc(0));
    for (const r of m.extracted) await w.recipient(r);
    const id = await w.commit();
    await wakePickup(layout);
    return id;
  } catch (e) {
    await w.abort();
    throw e;
  }
}

export type SubmitResult = { ok: true; id: string } | { ok: false; noRecipients: true };

/**
 * Stream `lines` into a new maildrop file. With `extract` (-t) the header
 * is held until it ends, then its recipients join the extracted section
 * and its Bcc headers are dropped; the body is never held. A message left
 * with no recipient at all is not kept. Any failure removes the file.
 */
export async function submitMessage(
  layout: QueueLayout,
  env: Omit<MaildropMessage, 'lines' | 'extracted'>,
  lines: AsyncIterable<string>,
  extract: { enabled: boolean; recipient: (address: string) => QueueRecipient },
): Promise<SubmitResult> {
  const w = await createQueueFile(layout, { queue: 'maildrop' });
  try {
    const now = Date.now();
    await w.envelope({
      arrival: { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 },
      sender: env.sender,
      recipients: env.recipients,
      attributes: env.attributes,
      ...(env.dsnEnvid === undefined ? {} : { dsnEnvid: env.dsnEnvid }),
      ...(env.dsnRet === undefined ? {} : { dsnRet: env.dsnRet }),
    });
    let batch: string[] = [];
    let batchLen = 0;
    const flush = async () => {
      await w.content(Buffer.from(batch.length === 0 ? '' : `${batch.join('\n')}\n`, 'latin1'));
      batch = [];
      batchLen = 0;
    };
    const put = async (line: string) => {
      batch.push(line);
      batchLen += line.length + 1;
      if (batchLen >= 64 * 1024) await flush();
    };
    let header: string[] | undefined = extract.enabled ? [] : undefined;
    let extracted: string[] = [];
    const endHeader = async () => {
      const x = extractFromHeader(header ?? []);
      extracted = x.recipients;
      header = undefined;
      for (const l of x.lines) await put(l);
    };
    for await (const line of lines) {
      if (header !== undefined) {
        header.push(line);
        if (!isHeaderLine(line, header.length > 1)) await endHeader();
        continue;
      }
      await put(line);
    }
    if (header !== undefined) await endHeader();
    await flush();
    if (env.recipients.length === 0 && extracted.length === 0) {
      await w.abort();
      return { ok: false, noRecipients: true };
    }
    for (const a of extracted) await w.recipient(extract.recipient(a));
    const id = await w.commit();
    await wakePickup(layout);
    return { ok: true, id };
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** Still inside the header: a "name:" line, or a folded continuation of one. */
function isHeaderLine(line: string, continuationOk: boolean): boolean {
  return (
    /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(line) ||
    (continuationOk && /^[ \t]/.test(line) && line.trim() !== '')
  );
}

/**
 * Tell pickup there is mail, as Postfix's postdrop does. Only a hint: when
 * pickup is not running the file waits for its next scan.
 */
function wakePickup(layout: QueueLayout): Promise<boolean> {
  return triggerPath(join(layout.directory, 'public', 'pickup'), 'W');
}
