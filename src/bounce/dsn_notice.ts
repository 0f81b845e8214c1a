/*
 * dsn_notice - compose a delivery status notification (RFC 3464)
 *
 * composeNotice() builds the message a bounce daemon queues for the
 * sender (or, for a postmaster copy, for a notice recipient): top-level
 * headers in Postfix's order (Date, From, Subject from the bounce(5)
 * template, To, Auto-Submitted: auto-replied (auto-generated on postmaster
 * copies), MIME-Version) and a multipart/report;
 * report-type=delivery-status body with three parts:
 *   1. text/plain: the template's expanded text, then one paragraph per
 *      recipient, "<address> (expanded from <original>): reason";
 *   2. message/delivery-status: per-message fields (Reporting-MTA,
 *      X-Postfix-Queue-ID, X-Postfix-Sender, Arrival-Date,
 *      Original-Envelope-Id) and per-recipient fields (Final-Recipient,
 *      Original-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
 *      Last-Attempt-Date, Will-Retry-Until for delays);
 *   3. the original, after a Return-Path header naming its sender:
 *      message/rfc822 (complete) or text/rfc822-headers (header section
 *      only). See returnedPart() for the choice.
 * test/golden/bounce/dsn/ holds notices Postfix 3.7 wrote, for comparison.
 * With SMTPUTF8 and non-ASCII content the global types of RFC 6533 are
 * used (message/global-delivery-status, message/global,
 * message/global-headers). Content-Transfer-Encoding: 8bit is declared
 * where and when Postfix 3.7 declares it (see composeNotice); nothing is
 * re-encoded.
 * Header lines are folded (see dsn_format.ts); the boundary is checked
 * not to occur in the content. Lines end in "\n".
 */
import type { MainConfig } from '../global/config.js';
import { DSN_RET_FULL, DSN_RET_HDRS, isValidStatus } from '../global/dsn.js';
import { foldHeader, isEightBit, mailDate, messageSize, wrapReason } from './dsn_format.js';
import type { DsnMessage, DsnRecipient } from './dsn_types.js';
import type { TemplateKind } from './template.js';
import type { BounceTemplates } from './template_load.js';

export interface NoticeSettings {
  readonly myhostname: string;
  /** bounce_size_limit: the most original message text returned, in bytes. */
  readonly sizeLimit: number;
  /** smtputf8_enable: a us-ascii template is then labelled utf-8, as Postfix labels it. */
  readonly smtputf8: boolean;
}

/** The parameters a notice depends on, from main.cf. */
export function noticeSettings(cfg: MainConfig): NoticeSettings {
  return {
    myhostname: cfg.get('myhostname'),
    sizeLimit: cfg.int('bounce_size_limit', 1),
    smtputf8: cfg.bool('smtputf8_enable'),
  };
}

export interface NoticeRequest {
  readonly kind: TemplateKind;
  readonly message: DsnMessage;
  readonly recipients: readonly DsnRecipient[];
  /** When the notice is made (Date:); defaults to now. */
  readonly now?: Date | undefined;
  /** Delay notices: the end of the queue lifetime (arrival + maximal_queue_lifetime). */
  readonly willRetryUntil?: Date | undefined;
  /**
   * A postmaster copy: Postmaster-Subject, "Auto-Submitted: auto-generated",
   * no template text (only the recipient paragraphs), headers only unless
   * returnFull; sent to `to`. As Postfix 3.7 writes them.
   */
  readonly postmaster?: boolean | undefined;
  /** A postmaster copy of a double bounce: the whole original (within bounce_size_limit). */
  readonly returnFull?: boolean | undefined;
  /** The notice recipient; the original sender by default. */
  readonly to?: string | undefined;
}

export interface Notice {
  /** The envelope recipient of the notice (its envelope sender is always null). */
  readonly recipient: string;
  readonly boundary: string;
  /** The complete message, header section and body, lines ending in "\n". */
  readonly text: string;
}

/** As Postfix labels the returned original (delay notices too say "Undelivered"). */
const DESCRIPTION: Readonly<Record<TemplateKind, string>> = {
  failure: 'Undelivered Message',
  delay: 'Undelivered Message',
  success: 'Message',
  verify: 'Message',
};

/**
 * Whether the original is returned whole: a failure notice returns it
 * unless RET=HDRS; delay notices, postmaster copies and RET=HDRS return
 * headers; success and verify notices return headers unless RET=FULL.
 * A message larger than bounce_size_limit (its size as the queue manager
 * logs it) is returned as headers only; the header section itself is
 * never cut, as Postfix 3.7 does not cut it.
 */
export function returnedPart(
  req: NoticeRequest,
  sizeLimit: number,
): { readonly full: boolean; readonly content: string } {
  const m = req.message;
  const wanted = req.postmaster
    ? req.returnFull === true
    : req.kind === 'failure'
      ? m.ret !== DSN_RET_HDRS
      : req.kind !== 'delay' && m.ret === DSN_RET_FULL;
  const own = m.headers === '' || m.headers.endsWith('\n') ? m.headers : `${m.headers}\n`;
  // The envelope sender travels with the original, as a Return-Path header.
  const headers = `Return-Path: <${m.sender}>\n${own}`;
  const size = m.size ?? messageSize(`${own}\n${m.body}`);
  if (wanted && size <= sizeLimit) return { full: true, content: `${headers}\n${m.body}` };
  return { full: false, content: headers };
}

/** "MAILER-DAEMON" becomes "MAILER-DAEMON@myhostname", in "<...>" or bare. */
function qualifyFrom(from: string, host: string): string {
  if (/<[^<>]*>/.test(from)) return from.replace(/<([^<>@]+)>/, `<$1@${host}>`);
  return from.replace(/^([^\s@()<>"]+)(?=\s|$)/, `$1@${host}`);
}

function addressType(addr: string, utf8: boolean): string {
  return utf8 && isEightBit(addr) ? 'utf-8' : 'rfc822';
}

function deliveryStatus(req: NoticeRequest, host: string, utf8: boolean): string[] {
  const m = req.message;
  const out = [
    ...foldHeader('Reporting-MTA', `dns; ${host}`),
    ...(m.envId !== undefined ? foldHeader('Original-Envelope-Id', m.envId) : []),
    ...foldHeader('X-Postfix-Queue-ID', m.queueId),
    ...foldHeader('X-Postfix-Sender', `${addressType(m.sender, utf8)}; ${m.sender}`),
    ...foldHeader('Arrival-Date', mailDate(m.arrival)),
  ];
  for (const r of req.recipients) {
    if (!isValidStatus(r.status)) throw new RangeError(`invalid DSN status for ${r.address}: ${r.status}`);
    out.push('', ...foldHeader('Final-Recipient', `${addressType(r.address, utf8)}; ${r.address}`));
    if (r.original !== undefined) {
      out.push(...foldHeader('Original-Recipient', `${r.originalType ?? 'rfc822'};${r.original}`));
    }
    out.push(...foldHeader('Action', r.action), ...foldHeader('Status', r.status));
    if (r.remoteMta !== undefined) out.push(...foldHeader('Remote-MTA', `dns; ${r.remoteMta}`));
    if (r.diagnostic !== undefined) {
      out.push(...foldHeader('Diagnostic-Code', `${r.diagnosticType ?? 'X-Postfix'}; ${r.diagnostic}`));
    }
    if (r.lastAttempt !== undefined) out.push(...foldHeader('Last-Attempt-Date', mailDate(r.lastAttempt)));
    if (r.action === 'delayed' && req.willRetryUntil !== undefined) {
      out.push(...foldHeader('Will-Retry-Until', mailDate(req.willRetryUntil)));
    }
  }
  return out;
}

function humanRecipients(recipients: readonly DsnRecipient[]): string[] {
  const out: string[] = [];
  for (const r of recipients) {
    const from = r.expandedFrom ?? r.original;
    const expanded = from !== undefined && from !== r.address ? ` (expanded from <${from}>)` : '';
    out.push(...wrapReason(`<${r.address}>${expanded}: ${r.reason}`), '');
  }
  return out;
}

function pickBoundary(base: string, content: string): string {
  let b = base;
  for (let n = 1; content.includes(`--${b}`); n++) b = `${base}.${n}`;
  return b;
}

export function composeNotice(
  templates: BounceTemplates,
  settings: NoticeSettings,
  req: NoticeRequest,
): Notice {
  const m = req.message;
  const to = req.to ?? m.sender;
  if (to === '') throw new RangeError('no notice recipient: the sender is null');
  const host = settings.myhostname;
  const now = req.now ?? new Date();
  const t = templates.get(req.kind);
  const returned = returnedPart(req, settings.sizeLimit);
  const utf8 = m.smtputf8 === true && (isEightBit(returned.content) || isEightBit(m.sender));
  // Postmaster copies go without the boiler-plate text, as Postfix's do.
  const boiler = req.postmaster ? [] : templates.expand(req.kind);
  const human = [...boiler, '', ...humanRecipients(req.recipients)];
  const status = deliveryStatus(req, host, utf8);
  const boundary = pickBoundary(
    `${m.queueId}.${Math.trunc(now.getTime() / 1000)}/${host}`,
    [...human, ...status, returned.content].join('\n'),
  );
  const subject = req.postmaster && t.postmasterSubject !== undefined ? t.postmasterSubject : t.subject;
  // A us-ascii template becomes utf-8, and the notice 8bit, when SMTPUTF8 is
  // enabled or cleanup recorded an 8-bit body: Postfix 3.7 declares 8bit then
  // on the top level, the text and the original (test/golden/bounce/cte/),
  // and nothing (7bit) otherwise, even when the original holds 8-bit bytes.
  // A template in another charset keeps it (8bit only with SMTPUTF8 enabled).
  const upgrade = settings.smtputf8 || m.encoding?.toLowerCase() === '8bit';
  const charset = upgrade && t.charset.toLowerCase() === 'us-ascii' ? 'utf-8' : t.charset;
  const eightBit = upgrade || t.encoding === '8bit';
  const cte = (yes: boolean): string[] => (yes ? ['Content-Transfer-Encoding: 8bit'] : []);
  const original = returned.full
    ? utf8
      ? 'message/global'
      : 'message/rfc822'
    : utf8
      ? 'message/global-headers'
      : 'text/rfc822-headers';
  const lines = [
    ...foldHeader('Date', mailDate(now)),
    ...foldHeader('From', qualifyFrom(t.from, host)),
    ...foldHeader('Subject', subject),
    ...foldHeader('To', to),
    `Auto-Submitted: ${req.postmaster ? 'auto-generated' : 'auto-replied'}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    `\tboundary="${boundary}"`,
    ...cte(eightBit),
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    ...foldHeader('Content-Type', `text/plain; charset=${charset}`),
    ...cte(eightBit),
    '',
    ...human,
    `--${boundary}`,
    'Content-Description: Delivery report',
    `Content-Type: message/${utf8 ? 'global-' : ''}delivery-status`,
    // Postfix declares the global (SMTPUTF8) report 8bit even when its fields are ASCII.
    ...cte(utf8 || status.some(isEightBit)),
    '',
    ...status,
    '',
    `--${boundary}`,
    `Content-Description: ${DESCRIPTION[req.kind]}${returned.full ? '' : ' Headers'}`,
    `Content-Type: ${original}`,
    ...cte(eightBit),
    '',
  ];
  const text = `${lines.join('\n')}\n${returned.content}\n--${boundary}--\n`;
  return { recipient: to, boundary, text };
}
