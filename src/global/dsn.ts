/*
 * dsn - delivery status codes, actions and DSN request flags
 *
 * An enhanced status code (RFC 3463) is "class.subject.detail": class 2
 * (success), 4 (persistent transient failure) or 5 (permanent failure),
 * subject 0-999 and detail 0-999 without leading zeros beyond a single
 * digit, as Postfix's dsn_valid() accepts. parseStatus() finds one at the
 * start of a reply text ("5.1.1 User unknown" or, after an SMTP reply
 * code, "550 5.1.1 User unknown") the way Postfix picks a status out of
 * a remote reply. dsnLogText() gives the ", dsn=X.Y.Z" part of a delivery
 * log line. The NOTIFY and RET flags are those of RFC 3461, stored as
 * Postfix stores them in a queue file (bit masks).
 */

export type DsnClass = 2 | 4 | 5;

/**
 * Per-recipient Action values of RFC 3464 that Postfix reports; an address
 * probe (sendmail -bv) reports the last two, as Postfix does.
 */
export type DsnAction =
  | 'failed'
  | 'delayed'
  | 'delivered'
  | 'relayed'
  | 'expanded'
  | 'deliverable'
  | 'undeliverable';

export const DSN_ACTIONS: readonly DsnAction[] = [
  'failed',
  'delayed',
  'delivered',
  'relayed',
  'expanded',
  'deliverable',
  'undeliverable',
];

/** NOTIFY= bits, as a queue file records them (0 means "not specified"). */
export const DSN_NOTIFY_NEVER = 1 << 0;
export const DSN_NOTIFY_SUCCESS = 1 << 1;
export const DSN_NOTIFY_FAILURE = 1 << 2;
export const DSN_NOTIFY_DELAY = 1 << 3;
export const DSN_NOTIFY_ANY = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;

/** RET= values (0 means "not specified"). */
export const DSN_RET_FULL = 1;
export const DSN_RET_HDRS = 2;
export type DsnRet = 0 | typeof DSN_RET_FULL | typeof DSN_RET_HDRS;

const NOTIFY_WORDS: ReadonlyArray<readonly [string, number]> = [
  ['NEVER', DSN_NOTIFY_NEVER],
  ['SUCCESS', DSN_NOTIFY_SUCCESS],
  ['FAILURE', DSN_NOTIFY_FAILURE],
  ['DELAY', DSN_NOTIFY_DELAY],
];

const STATUS = /^([245])\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})(?=$|[ \t\r\n])/;

/** True when `text` is exactly one valid enhanced status code. */
export function isValidStatus(text: string): boolean {
  const m = STATUS.exec(text);
  return m !== null && m[0].length === text.length;
}

/** The class digit of a valid status code. */
export function statusClass(status: string): DsnClass {
  if (!isValidStatus(status)) throw new RangeError(`invalid DSN status: ${JSON.stringify(status)}`);
  return Number(status[0]) as DsnClass;
}

export interface ParsedReply {
  /** The enhanced status code, or undefined when the text has none. */
  readonly status: string | undefined;
  /** The text after the status code (and after an SMTP reply code, when there was one). */
  readonly text: string;
}

/**
 * The status code that opens a reply: "5.1.1 text" or "550 5.1.1 text"
 * (also "550-5.1.1 text"). A status whose class disagrees with the
 * reply code's first digit is not taken, as Postfix ignores it.
 */
export function parseStatus(reply: string): ParsedReply {
  const smtp = /^([245])[0-9][0-9](?:[ -]|$)/.exec(reply);
  const rest = smtp ? reply.slice(smtp[0].length) : reply;
  const m = STATUS.exec(rest);
  if (!m || (smtp && smtp[1] !== m[1])) return { status: undefined, text: reply };
  return { status: m[0], text: rest.slice(m[0].length).replace(/^[ \t]+/, '') };
}

/**
 * A status for a reply: its own when it has a valid one, else `fallback`
 * with the class forced to the reply code's class (Postfix's "X.Y.Z" with
 * the first digit of "550").
 */
export function statusFromReply(reply: string, fallback: string): string {
  const p = parseStatus(reply);
  if (p.status !== undefined) return p.status;
  const code = /^([245])[0-9][0-9]/.exec(reply);
  return code ? `${code[1]}${fallback.slice(1)}` : fallback;
}

/** The Action a status class reports when nothing more specific is known. */
export function defaultAction(status: string): DsnAction {
  const c = statusClass(status);
  return c === 2 ? 'delivered' : c === 4 ? 'delayed' : 'failed';
}

/** The part of a delivery log line that names the status: ", dsn=5.1.1". */
export function dsnLogText(status: string): string {
  statusClass(status);
  return `, dsn=${status}`;
}

/**
 * NOTIFY= text (RFC 3461: "NEVER" alone, or a comma list of SUCCESS,
 * FAILURE, DELAY in any case) as bits; undefined when malformed.
 */
export function parseNotify(text: string): number | undefined {
  let mask = 0;
  for (const word of text.split(',')) {
    const hit = NOTIFY_WORDS.find(([w]) => w === word.toUpperCase());
    if (!hit || mask & hit[1]) return undefined;
    mask |= hit[1];
  }
  if (mask & DSN_NOTIFY_NEVER && mask !== DSN_NOTIFY_NEVER) return undefined;
  return mask;
}

/** NOTIFY bits as the text an SMTP client would send. */
export function notifyText(mask: number): string {
  return NOTIFY_WORDS.filter(([, bit]) => mask & bit)
    .map(([w]) => w)
    .join(',');
}

/** RET= text: FULL or HDRS, in any case. */
export function parseRet(text: string): DsnRet | undefined {
  const t = text.toUpperCase();
  return t === 'FULL' ? DSN_RET_FULL : t === 'HDRS' ? DSN_RET_HDRS : undefined;
}

/**
 * Whether a recipient asked for (or, with no NOTIFY, defaults to) a
 * notice of this kind: without NOTIFY, failures and delays are reported,
 * successes are not (RFC 3461 section 4.1).
 */
export function wantsNotice(notify: number, kind: 'failure' | 'delay' | 'success'): boolean {
  if (notify === 0) return kind !== 'success';
  const bit =
    kind === 'failure' ? DSN_NOTIFY_FAILURE : kind === 'delay' ? DSN_NOTIFY_DELAY : DSN_NOTIFY_SUCCESS;
  return (notify & bit) !== 0;
}
