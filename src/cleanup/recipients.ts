/*
 * recipients - the recipient list cleanup writes to the queue file
 *
 * Each envelope recipient is rewritten (canonical) and expanded by
 * virtual_alias_maps through the address mapper; every result keeps the
 * address the client gave as its original recipient (O record, when
 * enable_original_recipient = yes) and its DSN attributes. BCC recipients
 * (DSN NOTIFY=NEVER, so their senders hear nothing of them) come in
 * Postfix's order: sender_bcc_maps first, each recipient's
 * recipient_bcc_maps result (looked up after canonical mapping, before
 * virtual aliasing) right after it, always_bcc and BCC actions last; each
 * is canonicalized and expanded, and its original recipient is the
 * canonicalized address. A REDIRECT action replaces the envelope
 * recipients by its one address (the BCC copies stay). Duplicates (same
 * address, original recipient and DSN attributes, case ignored) are written once, as
 * long as fewer than duplicate_filter_limit recipients were seen (0: no
 * limit). A table that answers "try again" makes the outcome a deferral.
 */
import type { MainConfig } from '../global/config.js';
import { DSN_NOTIFY_NEVER } from '../global/dsn.js';
import type { QueueRecipient } from '../global/queue_file.js';
import type { ContentOutcome } from './checks_engine.js';
import type { Mapper, MapResult } from './mapping.js';

export interface RecipientInput {
  readonly cfg: MainConfig;
  readonly mapper: Mapper;
  readonly sender: string;
  readonly recipients: readonly QueueRecipient[];
  readonly outcome: ContentOutcome;
}

export async function finalRecipients(inp: RecipientInput): Promise<MapResult<QueueRecipient[]>> {
  const keepOrig = inp.cfg.bool('enable_original_recipient');
  const always = inp.cfg.get('always_bcc');
  // Without a client ORCPT, Postfix records the recipient after canonical mapping (before
  // virtual aliasing) as the DSN original recipient: notices show it qualified.
  const with_ = (r: QueueRecipient, address: string, orig: string, canonical?: string): QueueRecipient => {
    const dsnOrcpt = r.dsnOrcpt ?? (canonical === undefined ? undefined : `rfc822;${canonical}`);
    return {
      address,
      ...(keepOrig ? { orig } : {}),
      ...(dsnOrcpt === undefined ? {} : { dsnOrcpt }),
      ...(r.dsnNotify ? { dsnNotify: r.dsnNotify } : {}),
    };
  };
  // A table BCC address is rewritten and expanded like any recipient (not given to bcc
  // again); its original recipient is the rewritten address, as Postfix writes it.
  const bccOut: QueueRecipient[] = [];
  const addBcc = async (list: readonly string[], to: QueueRecipient[]): Promise<MapResult<null>> => {
    for (const a of list) {
      const canon = await inp.mapper.envelopeRecipient(a);
      if (!canon.ok) return canon;
      const expanded = await inp.mapper.virtualAlias(canon.value);
      if (!expanded.ok) return expanded;
      for (const x of expanded.value)
        to.push({ address: x, ...(keepOrig ? { orig: canon.value } : {}), dsnNotify: DSN_NOTIFY_NEVER });
    }
    return { ok: true, value: null };
  };
  const senderBcc: QueueRecipient[] = [];
  const normal: QueueRecipient[] = [];
  // Postfix's order: the sender's BCC, then each recipient followed by its own BCC.
  const sb = await inp.mapper.bcc(inp.sender, []);
  if (!sb.ok) return sb;
  const seq: QueueRecipient[][] = [senderBcc];
  let alwaysBcc: string | undefined;
  for (const r of inp.recipients) {
    const orig = r.orig ?? r.address;
    const canon = await inp.mapper.envelopeRecipient(r.address);
    if (!canon.ok) return canon;
    const expanded = await inp.mapper.virtualAlias(canon.value);
    if (!expanded.ok) return expanded;
    const mine = expanded.value.map((a) => with_(r, a, orig, canon.value));
    normal.push(...mine);
    seq.push(mine);
    // recipient_bcc_maps sees the address after canonical mapping, before virtual aliasing.
    const rb = await inp.mapper.bcc('', [canon.value]);
    if (!rb.ok) return rb;
    // bcc() ends with always_bcc whenever it answers for a recipient: that one comes last.
    let own = rb.value;
    if (always !== '' && own.length > 0) {
      alwaysBcc = own.at(-1) as string;
      own = own.slice(0, -1);
    }
    const theirs: QueueRecipient[] = [];
    const added = await addBcc(own, theirs);
    if (!added.ok) return added;
    bccOut.push(...theirs);
    seq.push(theirs);
  }
  if (normal.length === 0) return { ok: true, value: [] };
  const added = await addBcc(sb.value, senderBcc);
  if (!added.ok) return added;
  const tail: QueueRecipient[] = [];
  const end = await addBcc([...(alwaysBcc === undefined ? [] : [alwaysBcc]), ...inp.outcome.bcc], tail);
  if (!end.ok) return end;
  const redirect = inp.outcome.redirect;
  let out: QueueRecipient[];
  if (redirect !== undefined) {
    // REDIRECT takes the place of every envelope recipient; the BCC copies stay.
    const first = normal[0] as QueueRecipient;
    out = [...senderBcc, with_(first, redirect, first.orig ?? first.address), ...bccOut, ...tail];
  } else out = [...seq.flat(), ...tail];
  return { ok: true, value: dedupe(out, inp.cfg.int('duplicate_filter_limit')) };
}

function dedupe(list: readonly QueueRecipient[], limit: number): QueueRecipient[] {
  const seen = new Set<string>();
  const out: QueueRecipient[] = [];
  for (const r of list) {
    // Case does not make a different recipient (Postfix folds case here: golden dup/).
    const key = `${r.dsnOrcpt ?? ''}\n${r.dsnNotify ?? 0}\n${r.orig ?? ''}\n${r.address}`.toLowerCase();
    if (seen.has(key)) continue;
    if (limit === 0 || seen.size < limit) seen.add(key);
    out.push(r);
  }
  return out;
}
