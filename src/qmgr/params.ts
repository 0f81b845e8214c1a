/*
 * params - the main.cf and master.cf settings the queue manager works by
 *
 * Read once at start-up (qmgr restarts on reload). Per-transport limits
 * follow Postfix's naming: <transport>_destination_recipient_limit,
 * _destination_concurrency_limit, _destination_concurrency_failed_cohort_
 * limit, _destination_rate_delay, _transport_rate_delay fall back to the
 * default_ parameters, <transport>_initial_destination_concurrency to
 * initial_destination_concurrency; the process limit is the transport's master.cf maxproc
 * ($default_process_limit for "-" or a transport master.cf does not list).
 * As Postfix's qmgr does at start-up, a bounce_queue_lifetime larger than
 * maximal_queue_lifetime is lowered to it with a warning.
 */

import { type MainConfig, parseTime } from '../global/config.js';
import { msg } from '../global/msg.js';
import { readMasterCf } from '../master/master_cf.js';

export interface QmgrParams {
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly queueRunDelay: number;
  readonly maxQueueLifetime: number;
  readonly bounceQueueLifetime: number;
  readonly activeLimit: number;
  readonly recipientLimit: number;
  /** Seconds a transport nobody answers on stays "unavailable". */
  readonly transportRetryTime: number;
  /** Seconds a delivery request may take ($daemon_timeout). */
  readonly deliveryTimeout: number;
  readonly doubleBounceSender: string;
  /** Seconds between congestion warnings per destination; 0 = none (also without helpful_warnings). */
  readonly clogWarnTime: number;
  readonly recipientDelimiter: string;
}

export interface TransportLimits {
  /** Recipients per delivery request; 0 = no limit. */
  readonly recipientLimit: number;
  /** Deliveries in progress per destination; 0 = no limit. */
  readonly concurrencyLimit: number;
  /** Deliveries in progress for the whole transport; 0 = no limit. */
  readonly processLimit: number;
  /** Failed cohorts that suspend a destination; 0 = never. */
  readonly failedCohortLimit: number;
  /** The window a destination starts with. */
  readonly initialConcurrency: number;
  /** Seconds between deliveries to one destination (then one at a time); 0 = none. */
  readonly destinationRateDelay: number;
  /** Seconds between deliveries over the transport, any destination; 0 = none. */
  readonly transportRateDelay: number;
}

export function qmgrParams(cfg: MainConfig): QmgrParams {
  const maxQueueLifetime = cfg.time('maximal_queue_lifetime', 'd', 0);
  let bounceQueueLifetime = cfg.time('bounce_queue_lifetime', 'd', 0);
  if (bounceQueueLifetime > maxQueueLifetime) {
    msg.warn('bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting bounce_queue_lifetime');
    bounceQueueLifetime = maxQueueLifetime;
  }
  let activeLimit = cfg.int('qmgr_message_active_limit', 1);
  let recipientLimit = cfg.int('qmgr_message_recipient_limit', 1);
  if (recipientLimit < activeLimit) {
    msg.warn(
      'qmgr_message_recipient_limit is smaller than qmgr_message_active_limit - adjusting qmgr_message_recipient_limit',
    );
    recipientLimit = activeLimit;
  }
  activeLimit = Math.max(1, activeLimit);
  return {
    minBackoff: cfg.time('minimal_backoff_time', 's', 1),
    maxBackoff: cfg.time('maximal_backoff_time', 's', 1),
    queueRunDelay: cfg.time('queue_run_delay', 's', 1),
    maxQueueLifetime,
    bounceQueueLifetime,
    activeLimit,
    recipientLimit,
    transportRetryTime: cfg.time('transport_retry_time', 's', 1),
    deliveryTimeout: cfg.time('daemon_timeout', 's', 1),
    doubleBounceSender: cfg.get('double_bounce_sender'),
    clogWarnTime: cfg.bool('helpful_warnings') ? cfg.time('qmgr_clog_warn_time', 's', 0) : 0,
    recipientDelimiter: cfg.get('recipient_delimiter'),
  };
}

/**
 * A per-transport limit: its own value (main.cf, or a built-in default
 * such as local's) when the parameter has one, else the default_ value.
 */
function perTransport(own: string, name: string, fallback: number): number {
  if (own === '') return fallback;
  if (!/^[ \t]*\d+[ \t]*$/.test(own)) msg.fatal(`bad numerical configuration: ${name} = ${own}`);
  return Number(own);
}

/** A per-transport time in seconds (default unit s), else the default_ value. */
function perTransportTime(own: string, name: string, fallback: number): number {
  if (own === '') return fallback;
  const v = parseTime(own, 's');
  if (v === undefined) return msg.fatal(`parameter ${name}: bad time value or unit: ${own}`);
  return v;
}

export function transportLimits(cfg: MainConfig, transport: string): TransportLimits {
  let processLimit = cfg.int('default_process_limit', 0);
  try {
    const cf = readMasterCf(cfg.configDirectory);
    const e = cf.entries.filter((x) => x.name === transport && x.type === 'unix').at(-1);
    if (e !== undefined && e.processLimit !== '-') processLimit = Number.parseInt(e.processLimit, 10) || 0;
  } catch {
    // No master.cf (a stand-alone test set-up): the default applies.
  }
  const destinationRateDelay = perTransportTime(
    cfg.get(`${transport}_destination_rate_delay`),
    `${transport}_destination_rate_delay`,
    cfg.time('default_destination_rate_delay', 's', 0),
  );
  // Literal names in the reads, so scripts/gen-params-used.mjs sees them.
  return {
    destinationRateDelay,
    transportRateDelay: perTransportTime(
      cfg.get(`${transport}_transport_rate_delay`),
      `${transport}_transport_rate_delay`,
      cfg.time('default_transport_rate_delay', 's', 0),
    ),
    initialConcurrency: Math.max(
      1,
      perTransport(
        cfg.get(`${transport}_initial_destination_concurrency`),
        `${transport}_initial_destination_concurrency`,
        cfg.int('initial_destination_concurrency', 1),
      ),
    ),
    recipientLimit: perTransport(
      cfg.get(`${transport}_destination_recipient_limit`),
      `${transport}_destination_recipient_limit`,
      cfg.int('default_destination_recipient_limit', 0),
    ),
    // A rate-limited destination takes one delivery at a time, as in Postfix.
    concurrencyLimit:
      destinationRateDelay > 0
        ? 1
        : perTransport(
            cfg.get(`${transport}_destination_concurrency_limit`),
            `${transport}_destination_concurrency_limit`,
            cfg.int('default_destination_concurrency_limit', 0),
          ),
    processLimit,
    failedCohortLimit: perTransport(
      cfg.get(`${transport}_destination_concurrency_failed_cohort_limit`),
      `${transport}_destination_concurrency_failed_cohort_limit`,
      cfg.int('default_destination_concurrency_failed_cohort_limit', 0),
    ),
  };
}
