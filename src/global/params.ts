/*
 * params - the registry of every Postfix 3.7 parameter
 *
 * One declaration per parameter (params_table.ts, generated from Postfix's
 * own `postconf -d` and postconf(5)), a few hand corrections below, and the
 * "dynamic" names that Postfix accepts beyond its built-in ones: per-service
 * scheduler limits of master.cf delivery agents (relay_destination_concurrency_limit),
 * pipe(8)/spawn(8) time limits (maildrop_time_limit), smtpd_restriction_classes
 * names and $name references to user-defined parameters.
 * Defaults are Postfix's text, unexpanded, exactly as `postconf -d` prints them.
 */

import { type ParamLookup, type ParamSpec, p } from './params_spec.js';
import { GENERATED } from './params_table.js';

export type { ParamLookup, ParamSpec, ParamType, TimeUnit } from './params_spec.js';
export { ConfigError } from './params_spec.js';

/**
 * Limits that postconf(5) does not spell out, learned from Postfix's own
 * refusals ("invalid line_length_limit parameter value 0 < 512", "bad string
 * length 0 < 1: myhostname = "). For a string, min is its least length.
 */
const CORRECTIONS: Record<string, Partial<ParamSpec>> = {
  smtpd_recipient_limit: { min: 1 },
  line_length_limit: { min: 512 },
  default_process_limit: { min: 1 },
  myhostname: { min: 1 },
  mydomain: { min: 1 },
  mail_name: { min: 1 },
  mail_owner: { min: 1 },
  default_privs: { min: 1 },
  queue_directory: { min: 1 },
  daemon_directory: { min: 1 },
  command_directory: { min: 1 },
  default_database_type: { min: 1 },
  default_cache_db_type: { min: 1 },
  hash_queue_names: { min: 1 },
};

function corrected(): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = { ...GENERATED };
  for (const [name, fix] of Object.entries(CORRECTIONS)) {
    const base = GENERATED[name];
    if (base) out[name] = Object.freeze({ ...base, ...fix });
  }
  return out;
}

export const PARAMS: Readonly<Record<string, ParamSpec>> = Object.freeze(corrected());

export function paramSpec(name: string): ParamSpec | undefined {
  return Object.hasOwn(PARAMS, name) ? PARAMS[name] : undefined;
}

/**
 * The default as `postconf -d name` prints it: built-in defaults only, so
 * host-dependent ones are computed without main.cf. With cfg, computed
 * defaults consult that configuration (`postconf name` for an unset name).
 */
export function defaultText(name: string, cfg?: ParamLookup): string | undefined {
  const spec = paramSpec(name);
  if (spec === undefined) return undefined;
  return typeof spec.default === 'string' ? spec.default : spec.default(cfg);
}

/** A master.cf service as the registry needs it: its name and its command (argv[0]). */
export interface ServiceRef {
  readonly name: string;
  readonly command: string;
}

/** The per-transport scheduler parameters: suffix -> the parameter its default refers to. */
export const TRANSPORT_SUFFIXES: Readonly<Record<string, string>> = Object.freeze({
  _delivery_slot_cost: 'default_delivery_slot_cost',
  _delivery_slot_discount: 'default_delivery_slot_discount',
  _delivery_slot_loan: 'default_delivery_slot_loan',
  _destination_concurrency_failed_cohort_limit: 'default_destination_concurrency_failed_cohort_limit',
  _destination_concurrency_limit: 'default_destination_concurrency_limit',
  _destination_concurrency_negative_feedback: 'default_destination_concurrency_negative_feedback',
  _destination_concurrency_positive_feedback: 'default_destination_concurrency_positive_feedback',
  _destination_rate_delay: 'default_destination_rate_delay',
  _destination_recipient_limit: 'default_destination_recipient_limit',
  _extra_recipient_limit: 'default_extra_recipient_limit',
  _initial_destination_concurrency: 'initial_destination_concurrency',
  _minimum_delivery_slots: 'default_minimum_delivery_slots',
  _recipient_limit: 'default_recipient_limit',
  _recipient_refill_delay: 'default_recipient_refill_delay',
  _recipient_refill_limit: 'default_recipient_refill_limit',
  _transport_rate_delay: 'default_transport_rate_delay',
});

/** Commands whose master.cf services get the scheduler parameters (not discard, not a full path). */
export const DELIVERY_AGENTS: ReadonlySet<string> = new Set([
  'smtp',
  'lmtp',
  'local',
  'virtual',
  'pipe',
  'error',
]);
/** Commands whose services get <service>_time_limit = $command_time_limit. */
export const TIME_LIMIT_AGENTS: ReadonlySet<string> = new Set(['pipe', 'spawn']);

function derived(ref: string): ParamSpec {
  const base = PARAMS[ref];
  const { default: _d, ...rest } = base ?? p('str', '');
  return Object.freeze({ ...rest, default: `$${ref}` });
}

/**
 * The parameters one master.cf service adds, in name order, as `postconf -d`
 * prints them; built-in names (local_destination_concurrency_limit) are not
 * repeated.
 */
export function serviceParams(service: ServiceRef): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  if (DELIVERY_AGENTS.has(service.command)) {
    for (const [suffix, ref] of Object.entries(TRANSPORT_SUFFIXES)) out[service.name + suffix] = derived(ref);
  }
  if (TIME_LIMIT_AGENTS.has(service.command))
    out[`${service.name}_time_limit`] = derived('command_time_limit');
  const sorted: Record<string, ParamSpec> = {};
  for (const name of Object.keys(out).sort()) {
    if (!Object.hasOwn(PARAMS, name)) sorted[name] = out[name] as ParamSpec;
  }
  return sorted;
}

/** The spec of a built-in or service-dependent name, else undefined. */
export function dynamicSpec(name: string, services: readonly ServiceRef[] = []): ParamSpec | undefined {
  const spec = paramSpec(name);
  if (spec) return spec;
  for (const s of services) {
    if (!name.startsWith(`${s.name}_`)) continue;
    const found = serviceParams(s)[name];
    if (found) return found;
  }
  return undefined;
}
