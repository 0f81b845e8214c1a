/*
 * log_format - the mail log lines that tools parse
 *
 * One function per line that pflogsumm, qshape-style scripts and admins'
 * greps depend on, each returning the text after "postfix/service[pid]: "
 * exactly as Postfix 3.7 writes it. The caller hands the text to msg.info().
 * Nothing here does I/O, so every format is testable as a plain string.
 *
 * Delays follow Postfix's delay logging rules: large values are rounded to
 * whole seconds, small ones keep two significant digits, never more decimals
 * than delay_logging_resolution_limit (0..6), trailing zeros are dropped and
 * a value under the resolution prints as "0". Times are in microseconds so
 * that no float rounding creeps into the digits.
 */

import { quote822Local } from './address.js';
import type { MainConfig } from './config.js';

const MILLION = 1_000_000;
const SIG_DIGITS = 2;

/** $delay_logging_resolution_limit, checked to be in 0..6 (a bad value stops the program). */
export function delayResolution(cfg: MainConfig): number {
  return cfg.int('delay_logging_resolution_limit', 0, 6);
}

/** Formats a non-negative duration (microseconds) with Postfix's precision rules. */
export function formatDelay(micros: number, resolutionLimit = 2): string {
  if (!Number.isFinite(micros) || micros < 0) micros = 0;
  const maxDecimals = Math.min(6, Math.max(0, Math.trunc(resolutionLimit)));
  let sec = Math.floor(micros / MILLION);
  let usec = Math.round(micros - sec * MILLION);
  if (usec >= MILLION) {
    sec += 1;
    usec -= MILLION;
  }
  const width = 10 ** SIG_DIGITS;
  // unit: the smallest microsecond step that is still worth printing.
  let unit = MILLION / 10 ** maxDecimals;
  if (unit < MILLION) {
    if (sec > 0) {
      // Integer digits use up the significant digits first.
      let scale = 1;
      while (sec >= scale && scale <= width / 10) scale *= 10;
      unit = (MILLION / width) * scale;
    } else {
      while (usec >= width * unit) unit *= 10;
    }
  }
  if (unit > 1) {
    usec += Math.floor(unit / 2);
    if (usec >= MILLION) {
      sec += 1;
      usec -= MILLION;
    }
  }
  let out = String(sec);
  if (usec >= unit) {
    out += '.';
    let rest = usec;
    for (let place = MILLION / 10; rest >= unit && place > 0; place = Math.floor(place / 10)) {
      out += String(Math.floor(rest / place));
      rest %= place;
    }
  }
  return out;
}

/** Points in a message's life (microseconds since the epoch); 0 or absent means "did not happen". */
export interface MsgStats {
  /** Arrival in the incoming queue (the queue file's time stamp). */
  readonly incomingArrival: number;
  /** The queue manager moved it to active. */
  readonly activeArrival?: number;
  /** The delivery agent got it. */
  readonly agentHandoff?: number;
  /** A network delivery agent finished connection set-up (and greeting). */
  readonly connSetupDone?: number;
  /** Delivery finished (a multi-recipient delivery logs one time for all). */
  readonly deliverDone?: number;
  /** Earlier deliveries over the same connection (logged as conn_use=N+1). */
  readonly reuseCount?: number;
}

/** Microseconds since the epoch, for MsgStats (sub-millisecond where the clock has it). */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const stamped = (t: number | undefined): t is number => t !== undefined && t > 0;
// A clock that stepped back gives 0, never a negative delay.
const delta = (later: number, earlier: number): number => Math.max(0, later - earlier);

/**
 * "delay=T, delays=a/b/c/d": total; before the active queue; in the active
 * queue; connection set-up; transmission. A missing stage stretches the one
 * before it up to now, so the four always add up to the total.
 */
export function formatDelays(stats: MsgStats, now: number, resolutionLimit = 2): string {
  const end = stamped(stats.deliverDone) ? stats.deliverDone : now;
  const total = delta(end, stats.incomingArrival);
  let p = 0;
  let a = 0;
  let s = 0;
  let x = 0;
  if (stamped(stats.activeArrival)) {
    p = delta(stats.activeArrival, stats.incomingArrival);
    if (stamped(stats.agentHandoff)) {
      a = delta(stats.agentHandoff, stats.activeArrival);
      if (stamped(stats.connSetupDone)) {
        s = delta(stats.connSetupDone, stats.agentHandoff);
        x = delta(end, stats.connSetupDone);
      } else {
        x = delta(end, stats.agentHandoff);
      }
    } else {
      a = delta(end, stats.activeArrival);
    }
  } else {
    p = delta(end, stats.incomingArrival);
  }
  const f = (v: number) => formatDelay(v, resolutionLimit);
  return `delay=${f(total)}, delays=${f(p)}/${f(a)}/${f(s)}/${f(x)}`;
}

/** The delivery statuses Postfix logs for a recipient. */
export type DeliveryStatus =
  | 'sent'
  | 'deferred'
  | 'bounced'
  | 'expired'
  | 'undeliverable'
  | 'deliverable'
  | 'softbounce';

export interface DeliveryRecord {
  readonly queueId: string;
  readonly recipient: string;
  /** The address before aliasing/rewriting; logged only when it differs (ignoring case). */
  readonly origRecipient?: string;
  /** "host[addr]:port", "local", "none", ... */
  readonly relay: string;
  readonly stats: MsgStats;
  readonly dsn: string;
  readonly status: DeliveryStatus;
  /** The reason, e.g. "250 2.0.0 Ok: queued as X" or "delivered to mailbox". */
  readonly text: string;
}

/** "QID: to=<r>, orig_to=<o>, relay=R, conn_use=N, delay=T, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)". */
export function deliveryLine(r: DeliveryRecord, now: number, resolutionLimit = 2): string {
  // Addresses are logged in external form (info_log_address_format = external): "odd user"@x.
  let line = `${r.queueId}: to=<${quote822Local(r.recipient)}>`;
  const orig = r.origRecipient;
  if (orig && orig.toLowerCase() !== r.recipient.toLowerCase()) line += `, orig_to=<${quote822Local(orig)}>`;
  line += `, relay=${r.relay}`;
  const reuse = r.stats.reuseCount ?? 0;
  if (reuse > 0) line += `, conn_use=${reuse + 1}`;
  line += `, ${formatDelays(r.stats, now, resolutionLimit)}`;
  return `${line}, dsn=${r.dsn}, status=${r.status} (${r.text})`;
}

/** smtpd, at the first accepted RCPT: "QID: client=host[addr]" plus SASL details when authenticated. */
export function clientLine(
  queueId: string,
  client: { readonly name: string; readonly addr: string },
  sasl?: { readonly method: string; readonly username: string; readonly sender?: string },
): string {
  let line = `${queueId}: client=${client.name}[${client.addr}]`;
  if (sasl) {
    line += `, sasl_method=${sasl.method}, sasl_username=${sasl.username}`;
    if (sasl.sender) line += `, sasl_sender=${sasl.sender}`;
  }
  return line;
}

/** pickup: "QID: uid=N from=<sender>" (the submitter's uid and envelope sender). */
export function pickupLine(queueId: string, uid: number, sender: string, origId?: string): string {
  // orig_id: the queue ID a requeued message (postsuper -r) had before.
  return `${queueId}: uid=${uid} from=<${sender}>${origId ? ` orig_id=${origId}` : ''}`;
}

/** cleanup: "QID: message-id=<...>"; resent = the Resent-Message-ID header. */
export function messageIdLine(queueId: string, messageId: string, resent = false): string {
  // The header value is logged as found: it usually carries its own angle brackets.
  return `${queueId}: ${resent ? 'resent-' : ''}message-id=${messageId}`;
}

/** qmgr, when the message enters the active queue: "QID: from=<s>, size=N, nrcpt=N (queue active)". */
export function queueActiveLine(queueId: string, sender: string, size: number, nrcpt: number): string {
  return `${queueId}: from=<${sender}>, size=${size}, nrcpt=${nrcpt} (queue active)`;
}

/** qmgr, when the maximal queue lifetime is over: "QID: from=<s>, status=expired, returned to sender". */
export function expiredLine(
  queueId: string,
  sender: string,
  /** "force-expired" after postsuper -e. */
  status: 'expired' | 'force-expired' = 'expired',
): string {
  return `${queueId}: from=<${sender}>, status=${status}, returned to sender`;
}

/** qmgr/postsuper, when the queue file is gone: "QID: removed". */
export function removedLine(queueId: string): string {
  return `${queueId}: removed`;
}

export type NotificationKind = 'non-delivery' | 'delay' | 'delivery status';

/** bounce: "QID: sender non-delivery notification: NEWQID" (also delay / delivery status). */
export function notificationLine(
  queueId: string,
  newQueueId: string,
  kind: NotificationKind = 'non-delivery',
  to: 'sender' | 'postmaster' = 'sender',
): string {
  return `${queueId}: ${to} ${kind} notification: ${newQueueId}`;
}

/** smtpd: "connect from host[addr]". */
export function connectLine(client: { readonly name: string; readonly addr: string }): string {
  return `connect from ${client.name}[${client.addr}]`;
}

/** One SMTP command's tally for the "disconnect from" line. */
export interface CommandCount {
  readonly name: string;
  readonly ok: number;
  readonly total: number;
}

const tally = (ok: number, total: number) => (ok === total && total > 0 ? `${ok}` : `${ok}/${total}`);

/**
 * smtpd: "disconnect from host[addr] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4".
 * Commands appear in the given (smtpd command table) order, only those used;
 * "n/m" when some failed; "commands=0/0" when the client said nothing.
 */
export function disconnectLine(
  client: { readonly name: string; readonly addr: string },
  counts: readonly CommandCount[],
): string {
  let line = `disconnect from ${client.name}[${client.addr}]`;
  let ok = 0;
  let total = 0;
  for (const c of counts) {
    if (c.total <= 0) continue;
    line += ` ${c.name}=${tally(c.ok, c.total)}`;
    ok += c.ok;
    total += c.total;
  }
  return `${line} commands=${tally(ok, total)}`;
}

/**
 * smtpd: "QID: reject: RCPT from host[addr]: 554 5.7.1 <r>: Relay access denied;
 * from=<s> to=<r> proto=ESMTP helo=<h>" (NOQUEUE before a queue file exists).
 */
export function rejectLine(r: {
  readonly queueId?: string;
  readonly action?: 'reject' | 'reject_warning' | 'hold' | 'discard';
  readonly stage: string;
  readonly client: { readonly name: string; readonly addr: string };
  readonly reply: string;
  readonly sender?: string;
  readonly recipient?: string;
  readonly proto?: string;
  readonly helo?: string;
}): string {
  let line = `${r.queueId ?? 'NOQUEUE'}: ${r.action ?? 'reject'}: ${r.stage} from ${r.client.name}[${r.client.addr}]: ${r.reply};`;
  if (r.sender !== undefined) line += ` from=<${r.sender}>`;
  if (r.recipient !== undefined) line += ` to=<${r.recipient}>`;
  if (r.proto !== undefined) line += ` proto=${r.proto}`;
  if (r.helo !== undefined) line += ` helo=<${r.helo}>`;
  return line;
}

/**
 * smtpd's command table order, which the "disconnect from" tallies follow;
 * "unknown" (unrecognized commands) comes last.
 */
export const SMTPD_COMMANDS = [
  'helo',
  'ehlo',
  'xclient',
  'xforward',
  'starttls',
  'auth',
  'mail',
  'rcpt',
  'data',
  'bdat',
  'rset',
  'noop',
  'vrfy',
  'etrn',
  'quit',
  'unknown',
] as const;

/**
 * smtpd, when a session ends abnormally: "lost connection after DATA (21 bytes)
 * from host[addr]", "timeout after MAIL from ...", "too many errors after
 * UNKNOWN from ...". The byte count is given only in DATA/BDAT.
 */
export function sessionEndLine(
  event: 'lost connection' | 'timeout' | 'too many errors',
  stage: string,
  client: { readonly name: string; readonly addr: string },
  dataBytes?: number,
): string {
  const bytes = dataBytes === undefined ? '' : ` (${dataBytes} bytes)`;
  return `${event} after ${stage}${bytes} from ${client.name}[${client.addr}]`;
}

/**
 * cleanup, when header_checks/body_checks fire: "QID: reject: header Subject: x
 * from host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text". Local
 * submissions say "from local"; unknown fields are left out; the matched text
 * is cut at 200 characters.
 */
export function contentActionLine(a: {
  readonly queueId: string;
  readonly action: 'reject' | 'warning' | 'hold' | 'discard' | 'redirect' | 'filter' | 'replace' | 'prepend';
  readonly where: 'header' | 'body' | 'mime-header' | 'nested-header' | 'END-OF-MESSAGE';
  readonly text: string;
  readonly client?: { readonly name: string; readonly addr: string };
  readonly sender: string;
  readonly recipient?: string;
  readonly proto?: string;
  readonly helo?: string;
  readonly reason?: string;
}): string {
  const from = a.client ? `${a.client.name}[${a.client.addr}]` : 'local';
  let line = `${a.queueId}: ${a.action}: ${a.where} ${a.text.slice(0, 200)} from ${from}; from=<${a.sender}>`;
  if (a.recipient !== undefined) line += ` to=<${a.recipient}>`;
  if (a.proto !== undefined) line += ` proto=${a.proto}`;
  if (a.helo !== undefined) line += ` helo=<${a.helo}>`;
  if (a.reason) line += `: ${a.reason}`;
  return line;
}
