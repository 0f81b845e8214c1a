/*
 * cleanup_stat - the reply text for each CLEANUP_STAT_* outcome
 *
 * Postfix's cleanup reports a refused message with an SMTP code, an
 * enhanced status code and a short text; when several bits are set, the
 * first of this list wins (a temporary trouble beats a content verdict,
 * so a client retries rather than bouncing mail that could go through).
 * Codes and wording are Postfix 3.7's (checked against its bounces: "too
 * many hops" 5.4.0, header_checks REJECT 5.7.1).
 */
import { CLEANUP_STAT } from '../global/cleanup_client.js';

export interface StatDetail {
  readonly smtp: number;
  readonly dsn: string;
  readonly text: string;
}

const DETAILS: readonly (readonly [number, StatDetail])[] = [
  [CLEANUP_STAT.DEFER, { smtp: 451, dsn: '4.7.1', text: 'service unavailable' }],
  [CLEANUP_STAT.PROXY, { smtp: 451, dsn: '4.3.0', text: 'queue file write error' }],
  [CLEANUP_STAT.BAD, { smtp: 451, dsn: '4.3.0', text: 'internal protocol error' }],
  [CLEANUP_STAT.RCPT, { smtp: 550, dsn: '5.1.0', text: 'no recipients specified' }],
  [CLEANUP_STAT.HOPS, { smtp: 554, dsn: '5.4.0', text: 'too many hops' }],
  [CLEANUP_STAT.SIZE, { smtp: 552, dsn: '5.3.4', text: 'message file too big' }],
  [CLEANUP_STAT.CONT, { smtp: 550, dsn: '5.7.1', text: 'message content rejected' }],
  [CLEANUP_STAT.WRITE, { smtp: 451, dsn: '4.3.0', text: 'queue file write error' }],
];

/** The detail for the most important bit of `status` (0 → success). */
export function statDetail(status: number): StatDetail {
  if (status === 0) return { smtp: 250, dsn: '2.0.0', text: 'Success' };
  for (const [bit, d] of DETAILS) if (status & bit) return d;
  return { smtp: 451, dsn: '4.3.0', text: 'unknown cleanup error' };
}

/** "5.4.0 too many hops": the reason record cleanup sends to its client. */
export function statReason(status: number): string {
  const d = statDetail(status);
  return `${d.dsn} ${d.text}`;
}

/** Bits after which cleanup may bounce to the sender instead of refusing (CLEANUP_FLAG_BOUNCE). */
export const BOUNCE_OK = CLEANUP_STAT.CONT | CLEANUP_STAT.HOPS | CLEANUP_STAT.SIZE;

/** Split "5.7.1 text" into its status code and text; a missing code takes `fallback`. */
export function splitReason(reason: string, fallback: string): { dsn: string; text: string } {
  const m = /^([245]\.\d{1,3}\.\d{1,3})\s+([\s\S]*)$/.exec(reason);
  return m ? { dsn: m[1] as string, text: m[2] as string } : { dsn: fallback, text: reason };
}
