/*
 * recipients - the recipient list cleanup writes to the queue file
 *
 * Each envelope recipient is rewritten (canonical) and expanded by
 * virtual_alias_maps through the address mapper; every result keeps the
 * address the client gave as its original recipient (O record, when
 * enable_original_recipient = yes) and its DSN attributes. Then come the
 * BCC recipients (always_bcc, sender/recipient_bcc_maps, BCC actions),
 * with DSN NOTIFY=NEVER so their senders hear nothing of them; a REDIRECT
 * action replaces the whole list by its one address. Duplicates (same
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
  const out: QueueRecipient[] = [];
  const with_ = (r: QueueRecipient, address: string, orig: string): QueueRecipient => ({
    address,
    ...(keepOrig ? { orig } : {}),
    ...(r.dsnOrcpt === undefined ? {} : { dsnOrcpt: r.dsnOrcpt }),
    ...(r.dsnNotify ? { dsnNotify: r.dsnNotify } : {}),
  });
  for (const r of inp.recipients) {
    const orig = r.orig ?? r.address;
    const canon = await inp.mapper.envelopeRecipient(r.address);
    if (!canon.ok) return canon;
    const expanded = await inp.mapper.virtualAlias(canon.value);
    if (!expanded.ok) return expanded;
    for (const a of expanded.value) out.push(with_(r, a, orig));
  }
  const redirect = inp.outcome.redirect;
  if (redirect !== undefined && out.length > 0) {
    const first = out[0] as QueueRecipient;
    out.splice(0, out.length, with_(first, redirect, first.orig ?? first.address));
  }
  if (out.length > 0) {
    const bcc = await inp.mapper.bcc(
      inp.sender,
      out.map((r) => r.address),
    );
    if (!bcc.ok) return bcc;
    // Table BCC addresses are rewritten and expanded like any recipient (not given to bcc again).
    for (const a of [...bcc.value, ...inp.outcome.bcc]) {
      const canon = await inp.mapper.envelopeRecipient(a);
      if (!canon.ok) return canon;
      const expanded = await inp.mapper.virtualAlias(canon.value);
      if (!expanded.ok) return expanded;
      for (const x of expanded.value)
        out.push({ address: x, ...(keepOrig ? { orig: a } : {}), dsnNotify: DSN_NOTIFY_NEVER });
    }
  }
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
