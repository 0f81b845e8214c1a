/*
 * header_rules - cleanup's own treatment of the primary message headers
 *
 * After the header/body checks, every primary header passes here:
 *   - Received: headers are counted, the one cleanup adds first; each that
 *     brings the count to hopcount_limit or more is reported, and the
 *     message refused (CLEANUP_STAT_HOPS), as Postfix 3.7 does
 *     (test/golden/cleanup/hops: 2 Received + ours = 3 hops fail a limit
 *     of 3, with one warning; 3 Received give two);
 *   - Bcc:, Resent-Bcc:, Return-Path: and Content-Length: are removed;
 *   - Message-ID: and Resent-Message-ID: are logged as found
 *     ("QID: message-id=<...>");
 *   - sender and recipient headers go through the address mapper
 *     (trivial-rewrite, canonical, masquerading; refolded when changed);
 * and at the end of the primary headers the missing ones are added, in
 * Postfix's order: (Resent-)Message-Id:, (Resent-)Date:, (Resent-)From:,
 * then $undisclosed_recipients_header when there is no To: or Cc:. The
 * Resent- forms are used when the message has any Resent- header. Headers
 * are added for local submissions (rewrite_context=local; smtpd sends
 * local for clients matching local_header_rewrite_clients) or when
 * always_add_missing_headers = yes. A message without Message-ID: that
 * gets none logs "message-id=<>", as Postfix does.
 */
import type { MainConfig } from '../global/config.js';
import { messageIdLine } from '../global/log_format.js';
import { msg } from '../global/msg.js';
import { dateValue, fromValue, messageIdValue, receivedHeader } from './header_make.js';
import type { Mapper, MapResult } from './mapping.js';
import { headerName } from './mime_state.js';

export interface HeaderRulesInit {
  readonly cfg: MainConfig;
  readonly queueId: string;
  readonly arrival: Date;
  /** The envelope sender after mapping. */
  readonly sender: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** Envelope recipients as the client gave them. */
  readonly recipients: readonly string[];
  readonly mapper: Mapper;
  /** A Received: header brought the hop count to hopcount_limit or more (called for each). */
  readonly onHops: () => void;
}

/** Headers cleanup removes (recorded: test/golden/cleanup/special). */
const DROPPED = new Set(['bcc', 'resent-bcc', 'return-path', 'content-length']);

export type HeaderResult = { ok: true; text: string | null } | { ok: false; defer: string };

export class HeaderRules {
  readonly #seen = new Set<string>();
  #resent = false;
  #hops = 0;
  #messageIdLogged = false;
  readonly #hopLimit: number;

  constructor(readonly init: HeaderRulesInit) {
    this.#hopLimit = init.cfg.int('hopcount_limit');
  }

  /** The Received: header cleanup puts on top, as physical lines. */
  received(): string[] {
    const { cfg, attrs } = this.init;
    const uid = /^uid=(\d+)$/.exec(attrs.origin ?? '');
    // Picked-up mail (origin uid=N) gets pickup's "by ... from userid N" line even when
    // it carries an SMTP client's attributes (requeued by postsuper -r), as in Postfix.
    const client =
      !uid && attrs.client_name && attrs.client_address
        ? {
            name: attrs.client_name,
            addr: attrs.client_address,
            ...(attrs.helo_name ? { helo: attrs.helo_name } : {}),
            ...(attrs.protocol_name ? { protocol: attrs.protocol_name } : {}),
            ...(attrs.sasl_username && cfg.bool('smtpd_sasl_authenticated_header')
              ? { saslUser: attrs.sasl_username }
              : {}),
          }
        : undefined;
    const sole = this.init.recipients.length === 1 ? this.init.recipients[0] : undefined;
    return receivedHeader({
      myhostname: cfg.get('myhostname'),
      mailName: cfg.get('mail_name'),
      queueId: this.init.queueId,
      arrival: this.init.arrival,
      ...(uid ? { uid: Number(uid[1]) } : {}),
      ...(client ? { client } : {}),
      ...(client && sole !== undefined ? { soleRecipient: sole } : {}),
    });
  }

  /** One primary header (logical, "\n" between its lines): the text to write, or null to drop it. */
  async header(text: string): Promise<HeaderResult> {
    const rawName = headerName(text);
    const name = rawName.toLowerCase();
    this.#seen.add(name);
    if (name.startsWith('resent-')) this.#resent = true;
    if (name === 'received' && ++this.#hops >= this.#hopLimit && this.#hopLimit > 0) this.init.onHops();
    const value = text.slice(text.indexOf(':') + 1);
    if (name === 'message-id' || name === 'resent-message-id') {
      const resent = name === 'resent-message-id';
      msg.info(messageIdLine(this.init.queueId, value.trim(), resent));
      if (!resent) this.#messageIdLogged = true;
    }
    if (DROPPED.has(name)) return { ok: true, text: null };
    // The mapper knows which headers hold addresses; others come back as they are.
    const r: MapResult<string> = await this.init.mapper.headerValue(rawName, value);
    if (!r.ok) return r;
    return { ok: true, text: r.value === value ? text : `${rawName}:${r.value}` };
  }

  /** The end of the primary headers: the headers to add (also logs message-id). */
  primaryEnd(): string[] {
    const { cfg, queueId } = this.init;
    const out: string[] = [];
    const add = cfg.bool('always_add_missing_headers') || this.init.attrs.rewrite_context !== 'remote';
    const p = this.#resent ? 'Resent-' : '';
    const has = (n: string) => this.#seen.has(`${p}${n}`.toLowerCase());
    if (add) {
      if (!has('Message-Id')) {
        const id = messageIdValue(new Date(), queueId, cfg.get('myhostname'));
        out.push(`${p}Message-Id: ${id}`);
        msg.info(messageIdLine(queueId, id, this.#resent));
        if (!this.#resent) this.#messageIdLogged = true;
      }
      if (!has('Date')) out.push(`${p}Date: ${dateValue(this.init.arrival)}`);
      if (!has('From')) out.push(`${p}From: ${fromValue(this.init.sender, this.init.attrs.full_name)}`);
      const undisclosed = cfg.get('undisclosed_recipients_header');
      if (!this.#resent && undisclosed !== '' && !has('To') && !has('Cc')) out.push(undisclosed);
    }
    if (!this.#messageIdLogged) {
      msg.info(messageIdLine(queueId, '<>'));
      this.#messageIdLogged = true;
    }
    return out;
  }
}
