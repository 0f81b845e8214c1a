/*
 * recipient_parts - a recipient address as local(8) takes it apart: the
 * local part folded to lower case, the user and the extension (split at
 * recipient_delimiter as Postfix's split_addr does), the domain; and the
 * Delivered-To: headers of a message, for loop detection.
 */

import type { DeliveryJob } from '../global/deliver_agent.js';

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

/** Delivered-To: values in the message header, lower case (loop detection). */
export async function readDeliveredTo(job: DeliveryJob): Promise<Set<string>> {
  const out = new Set<string>();
  let text = '';
  for await (const c of job.content()) {
    text += c.toString('latin1');
    if (/(^|\n)\n/u.test(text) || text.length > 1 << 20) break;
  }
  const end = text.search(/(^|\n)\n/u);
  const header = end < 0 ? text : text.slice(0, end + 1);
  for (const m of header.replace(/\n[ \t]+/gu, ' ').matchAll(/^delivered-to:[ \t]*(.*)$/gimu))
    out.add((m[1] ?? '').trim().toLowerCase());
  return out;
}
