/*
 * submit - turn sendmail's standard input into a maildrop queue file
 *
 * readMessage() applies the input rules of Postfix's sendmail: lines end
 * in LF (CRLF becomes LF when sendmail_fix_line_endings = always, or when
 * strict and the first line ends in CRLF), a leading "From " line is
 * dropped, a line holding only "." ends the
 * message unless -i, a last line without LF gets one, every byte is kept
 * (8-bit, NUL). It stops reading as soon as the content passes
 * message_size_limit, so a huge input costs no memory. buildContent()
 * applies -t: recipients from the header, Bcc removed.
 *
 * writeMaildrop() writes the file with the durable queue file writer:
 * the file appears in maildrop/ under its queue ID only once complete and
 * synced; a failure leaves nothing behind.
 */

import type { Readable } from 'node:stream';
import type { QueueLayout } from '../global/queue_dirs.js';
import type { QueueRecipient } from '../global/queue_file.js';
import { createQueueFile } from '../global/queue_file_writer.js';
import { extractRecipients, isBcc, splitHeader } from './headers.js';

export type FixEndings = 'always' | 'strict' | 'never';

export type ReadResult = { ok: true; lines: string[] } | { ok: false; tooBig: true };

/**
 * Lines are kept as latin1 strings: one char per byte, so 8-bit and
 * invalid UTF-8 survive the round trip unchanged.
 */
export async function readMessage(
  input: Readable,
  opts: { ignoreDots: boolean; fix: FixEndings; sizeLimit: number },
): Promise<ReadResult> {
  const lines: string[] = [];
  let size = 0;
  let rest = '';
  let ended = false;
  let first = true;
  // strict: CRLF is taken as the line end only when the first line uses it.
  let stripCr = opts.fix === 'always';
  const take = (raw: string): boolean => {
    let line = raw;
    if (first) {
      first = false;
      if (opts.fix === 'strict') stripCr = line.endsWith('\r');
      // A leading mbox "From " line is not part of the message, as in Postfix.
      if (line.startsWith('From ')) return true;
    }
    if (stripCr && line.endsWith('\r')) line = line.slice(0, -1);
    if (!opts.ignoreDots && line === '.') return false;
    size += line.length + 1;
    lines.push(line);
    return true;
  };
  for await (const chunk of input) {
    const text = rest + (chunk as Buffer).toString('latin1');
    const parts = text.split('\n');
    rest = parts.pop() as string;
    for (const p of parts) {
      if (!take(p)) {
        ended = true;
        break;
      }
    }
    if (ended) break;
    if (opts.sizeLimit > 0 && size + rest.length > opts.sizeLimit) return { ok: false, tooBig: true };
  }
  if (!ended && rest !== '') take(rest);
  if (opts.sizeLimit > 0 && size > opts.sizeLimit) return { ok: false, tooBig: true };
  return { ok: true, lines };
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
    return await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
}
