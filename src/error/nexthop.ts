/*
 * nexthop - the status and text that error(8), retry and discard(8) take
 * from their nexthop ("5.1.1 no such person", "gone away")
 *
 * dsnSplit() is Postfix's dsn_split(): a leading enhanced status code is
 * taken when it is valid, else the agent's default; the rest (white space
 * trimmed) is the text. checkClass() is what Postfix's bounce_append(),
 * defer_append() and sent() do with a status of the wrong class: warn
 * "<function>: ignoring dsn code "X.Y.Z"" and use the default instead.
 */

import { isValidStatus } from '../global/dsn.js';
import { msg } from '../global/msg.js';

export interface SplitDsn {
  readonly status: string;
  readonly text: string;
}

export function dsnSplit(defaultStatus: string, nexthop: string): SplitDsn {
  const s = nexthop.replace(/^[ \t\r\n]+/u, '');
  const m = /^(\S+)(?:[ \t\r\n]+|$)/u.exec(s);
  if (m?.[1] !== undefined && isValidStatus(m[1])) return { status: m[1], text: s.slice(m[0].length) };
  return { status: defaultStatus, text: s };
}

/** `fn` names the Postfix function whose warning this is: bounce_append, defer_append, sent. */
export function checkClass(fn: string, status: string, defaultStatus: string): string {
  if (status[0] === defaultStatus[0]) return status;
  msg.warn(`${fn}: ignoring dsn code "${status}"`);
  return defaultStatus;
}
