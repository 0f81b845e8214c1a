/*
 * clog - the queue manager's congestion warnings
 *
 * When one destination holds more than a fifth of $qmgr_message_active_limit
 * entries, Postfix's qmgr warns (at most once per $qmgr_clog_warn_time per
 * destination, with $helpful_warnings) and suggests what to change; these
 * are the same lines, chosen by the same tests, for msg.warn.
 */

export interface ClogFacts {
  readonly nexthop: string;
  readonly transport: string;
  /** Entries of this destination, waiting and in delivery. */
  readonly queueLength: number;
  readonly busy: number;
  readonly window: number;
  /** Messages in the active queue. */
  readonly messages: number;
  readonly activeLimit: number;
  readonly concurrencyLimit: number;
  /** Other destinations of the same transport have entries too. */
  readonly sharedTransport: boolean;
}

/** Is the destination clogging the active queue? */
export function clogged(queueLength: number, activeLimit: number): boolean {
  return queueLength > Math.floor(activeLimit / 5);
}

/** The warning lines, in Postfix's order and words. */
export function clogWarnings(f: ClogFacts): string[] {
  const share = f.queueLength / Math.max(1, f.messages);
  const out = [`mail for ${f.nexthop} is using up ${f.queueLength} of ${f.messages} active queue entries`];
  if (share < 0.9) out.push('this may slow down other mail deliveries');
  if (f.concurrencyLimit > 0 && f.concurrencyLimit <= f.busy + 1) {
    out.push(
      `you may need to increase the main.cf ${f.transport}_destination_concurrency_limit from ${f.concurrencyLimit}`,
    );
  } else if (f.window > f.activeLimit * share) {
    out.push(`you may need to increase the main.cf qmgr_message_active_limit from ${f.activeLimit}`);
  } else if (f.sharedTransport) {
    out.push(`you may need a separate master.cf transport for ${f.nexthop}`);
  } else {
    out.push(
      `you may need to reduce ${f.transport} connect and helo timeouts`,
      'so that Postfix quickly skips unavailable hosts',
      'you may need to increase the main.cf minimal_backoff_time and maximal_backoff_time',
      'so that Postfix wastes less time on undeliverable mail',
      `you may need to increase the master.cf ${f.transport} process limit`,
    );
  }
  out.push(
    'please avoid flushing the whole queue when you have',
    'lots of deferred mail, that is bad for performance',
    'to turn off these warnings specify: qmgr_clog_warn_time = 0',
  );
  return out;
}
