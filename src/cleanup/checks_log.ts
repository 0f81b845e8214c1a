/*
 * checks_log - the log line of a header/body check action
 *
 * Postfix's cleanup logs each action that fires as
 *   <queue id>: <action>: <header|body> <line> from <client>; from=<sender>
 *   to=<recipient> proto=<protocol> helo=<helo>: <optional text>
 * with the matched line cut at 200 characters and its control characters
 * (the "\n" of a folded header) shown as "?"; parts that are not known
 * (to, proto, helo) are left out, and ": text" only when there is text.
 */
import type { CheckEvent } from './checks_engine.js';

export interface CheckLogContext {
  readonly queueId: string;
  /** "name[address]" for SMTP clients, "local" for pickup. */
  readonly client: string;
  readonly sender: string;
  readonly recipient?: string;
  readonly protocol?: string;
  readonly helo?: string;
}

export function checkLogLine(ev: CheckEvent, ctx: CheckLogContext): string {
  const line = ev.line.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?');
  let out = `${ctx.queueId}: ${ev.action}: ${ev.context} ${line} from ${ctx.client}; from=<${ctx.sender}>`;
  if (ctx.recipient !== undefined) out += ` to=<${ctx.recipient}>`;
  if (ctx.protocol !== undefined) out += ` proto=${ctx.protocol}`;
  if (ctx.helo !== undefined) out += ` helo=<${ctx.helo}>`;
  if (ev.text !== '') out += `: ${ev.text}`;
  return out;
}
