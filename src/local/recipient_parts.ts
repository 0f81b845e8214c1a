/*
 * recipient_parts - a recipient address as local(8) takes it apart: the
 * local part folded to lower case, the user and the extension (split at
 * recipient_delimiter as Postfix's split_addr does), the domain; and the
 * Delivered-To: headers of a message, for loop detection.
 */

import type { DeliveryJob } from '../global/deliver_agent.js';
import { chunks, type MessageSource } from './mailbox_copy.js';

/** The recipient address taken apart (Postfix's msg_attr). */
export interface Parts {
  readonly local: string;
  readonly user: string;
  readonly extension?: string;
  /** The delimiter character found in the local part (none without extension). */
  readonly delim?: string;
  readonly domain: string;
}

/** Split a local part at the recipient delimiter, as Postfix's split_addr. */
export function splitExtension(local: string, delimiters: string): { user: string; extension?: string } {
  if (delimiters === '' || local === 'postmaster' || local === 'mailer-daemon') return { user: local };
  if (
    delimiters.includes('-') &&
    (local.startsWith('owner-') || (local.length > 8 && local.endsWith('-request')))
  )
    return { user: local };
  let i = 0;
  while (i < local.length && !delimiters.includes(local[i] as string)) i++;
  if (i >= local.length || i === 0) return { user: local };
  return { user: local.slice(0, i), extension: local.slice(i + 1) };
}

/** "+foo": what propagate_unmatched_extensions appends. */
export function unmatched(a: Parts): string | undefined {
  return a.extension === undefined ? undefined : `${a.delim ?? ''}${a.extension}`;
}

export function parts(address: string, delimiter: string): Parts {
  const at = address.lastIndexOf('@');
  const local = (at < 0 ? address : address.slice(0, at)).toLowerCase();
  const domain = at < 0 ? '' : address.slice(at + 1);
  const sp = splitExtension(local, delimiter);
  if (sp.extension === undefined) return { local, user: sp.user, domain };
  return { local, user: sp.user, extension: sp.extension, delim: local[sp.user.length] as string, domain };
}

/** Content up to this size is read once per request and kept; larger content streams for each delivery. */
const KEEP_MAX = 256 * 1024;

/**
 * The message content for every delivery of one request: a small message
 * is read from the queue file once (and its header searched once) instead
 * of once per delivery; memory stays bounded by KEEP_MAX a request. A
 * content that cannot be read whole is not kept: each delivery then reads
 * it and fails on its own, undoing its half delivery as always.
 */
export async function requestContent(job: DeliveryJob): Promise<() => MessageSource> {
  const stream = () => job.content();
  if (job.file.contentLength > KEEP_MAX) return stream;
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of job.content()) {
      parts.push(c);
      size += c.length;
      if (size > KEEP_MAX) return stream;
    }
  } catch {
    return stream;
  }
  const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  return () => all;
}

const LF2 = Buffer.from('\n\n');

/** Delivered-To: values in the message header, lower case (loop detection). */
export async function readDeliveredTo(content: MessageSource): Promise<Set<string>> {
  const out = new Set<string>();
  let head: Buffer = Buffer.alloc(0);
  // The header ends at the first empty line (the message's first line, or "\n\n").
  let end = -1;
  for await (const c of chunks(content)) {
    const from = Math.max(0, head.length - 1);
    head = head.length === 0 ? Buffer.from(c.buffer, c.byteOffset, c.byteLength) : Buffer.concat([head, c]);
    end = head[0] === 0x0a ? 0 : head.indexOf(LF2, from);
    if (end >= 0 || head.length > 1 << 20) break;
  }
  const header = (end < 0 ? head : head.subarray(0, end === 0 ? 0 : end + 1)).toString('latin1');
  for (const m of header.replace(/\n[ \t]+/gu, ' ').matchAll(/^delivered-to:[ \t]*(.*)$/gimu))
    out.add((m[1] ?? '').trim().toLowerCase());
  return out;
}
