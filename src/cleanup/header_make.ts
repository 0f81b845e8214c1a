/*
 * header_make - the headers cleanup writes itself, in Postfix's formats
 *
 *   Received: by <myhostname> (<mail_name>, from userid <uid>)      pickup
 *   \tid <queue id>; <arrival date>
 *   Received: by <myhostname> (<mail_name>)                           internal
 *   \tid <queue id>; <arrival date>
 *   Received: from <helo> (<client name> [<client address>])          smtpd
 *   \tby <myhostname> (<mail_name>) with <protocol> id <queue id>
 *   \tfor <rcpt>; <arrival date>       (exactly one recipient; else
 *                                       "id <queue id>;" then "\t<date>")
 *   (with smtpd_sasl_authenticated_header, "\t(Authenticated sender: user)"
 *   comes after the first line: from Postfix's documentation, not recorded)
 *   Message-Id: <YYYYMMDDhhmmss.<queue id>@<myhostname>>  (UTC time of cleanup)
 *   Date: <arrival date>
 *   From: <full name> <sender> | <sender> | MAILER-DAEMON (null sender)
 *
 * Dates are RFC 5322 in local time, "(UTC)" added when the offset is 0,
 * exactly as in the recorded goldens (test/golden/cleanup/daemon*).
 */
import { mailDate } from '../bounce/dsn_format.js';

export interface ReceivedInfo {
  readonly myhostname: string;
  readonly mailName: string;
  readonly queueId: string;
  readonly arrival: Date;
  /** pickup: the submitting user's uid. */
  readonly uid?: number;
  /** SMTP clients. */
  readonly client?: {
    readonly name: string;
    readonly addr: string;
    readonly helo?: string;
    readonly protocol?: string;
    /** With smtpd_sasl_authenticated_header = yes: the SASL login name. */
    readonly saslUser?: string;
  };
  /** The only envelope recipient, for "for <rcpt>". */
  readonly soleRecipient?: string;
}

/** The Received: header as its physical lines. */
export function receivedHeader(r: ReceivedInfo): string[] {
  const date = mailDate(r.arrival);
  if (r.client === undefined) {
    const via = r.uid === undefined ? r.mailName : `${r.mailName}, from userid ${r.uid}`;
    return [`Received: by ${r.myhostname} (${via})`, `\tid ${r.queueId}; ${date}`];
  }
  const c = r.client;
  const addr = c.addr.includes(':') && !c.addr.startsWith('IPv6:') ? `IPv6:${c.addr}` : c.addr;
  const lines = [`Received: from ${c.helo || c.name} (${c.name} [${addr}])`];
  if (c.saslUser !== undefined) lines.push(`\t(Authenticated sender: ${c.saslUser})`);
  const by = `\tby ${r.myhostname} (${r.mailName}) with ${c.protocol || 'SMTP'} id ${r.queueId}`;
  if (r.soleRecipient !== undefined) lines.push(by, `\tfor <${r.soleRecipient}>; ${date}`);
  else lines.push(`${by};`, `\t${date}`);
  return lines;
}

const two = (n: number) => String(n).padStart(2, '0');

/** The value of an added Message-Id: header (with its angle brackets). */
export function messageIdValue(now: Date, queueId: string, myhostname: string): string {
  const stamp =
    `${now.getUTCFullYear()}${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())}` +
    `${two(now.getUTCHours())}${two(now.getUTCMinutes())}${two(now.getUTCSeconds())}`;
  return `<${stamp}.${queueId}@${myhostname}>`;
}

export function dateValue(arrival: Date): string {
  return mailDate(arrival);
}

const SPECIALS = /[()<>@,;:\\".[\]]/;

/** The value of an added From: header: "Full Name <sender>", quoted when the name has specials. */
export function fromValue(sender: string, fullName: string | undefined): string {
  if (sender === '') return 'MAILER-DAEMON';
  if (fullName === undefined || fullName.trim() === '') return sender;
  const name = SPECIALS.test(fullName) ? `"${fullName.replace(/(["\\])/g, '\\$1')}"` : fullName;
  return `${name} <${sender}>`;
}
