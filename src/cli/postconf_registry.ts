/*
 * postconf_registry - what postconf asks of the parameter registry and of
 * a loaded main.cf, in one place
 *
 * The registry (src/global/params.ts) and the main.cf reader
 * (src/global/config.ts) are written by another engineer while this
 * command is; their finished API is used when it is there (feature
 * detection), and a documented, narrower fallback otherwise, so that
 * postconf keeps working while they grow. The fallbacks never parse
 * main.cf: that is config.ts's job.
 */
import type { MainConfig } from '../global/config.js';

type DefaultFn = (cfg?: { get(name: string): string }) => string;
interface SpecLike {
  readonly default: string | DefaultFn;
  readonly readOnly?: boolean;
}
interface RegistryModule {
  PARAMS?: Readonly<Record<string, SpecLike>>;
  GENERATED?: Readonly<Record<string, SpecLike>>;
  defaultText?: (name: string) => string | undefined;
  serviceParams?: (services: readonly string[]) => ReadonlyMap<string, string>;
}

/** Per-service parameter suffixes (postconf(5) "transport_..." entries) and their defaults. */
const DELIVERY_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['delivery_slot_cost', '$default_delivery_slot_cost'],
  ['delivery_slot_discount', '$default_delivery_slot_discount'],
  ['delivery_slot_loan', '$default_delivery_slot_loan'],
  ['destination_concurrency_failed_cohort_limit', '$default_destination_concurrency_failed_cohort_limit'],
  ['destination_concurrency_limit', '$default_destination_concurrency_limit'],
  ['destination_concurrency_negative_feedback', '$default_destination_concurrency_negative_feedback'],
  ['destination_concurrency_positive_feedback', '$default_destination_concurrency_positive_feedback'],
  ['destination_rate_delay', '$default_destination_rate_delay'],
  ['destination_recipient_limit', '$default_destination_recipient_limit'],
  ['extra_recipient_limit', '$default_extra_recipient_limit'],
  ['initial_destination_concurrency', '$initial_destination_concurrency'],
  ['minimum_delivery_slots', '$default_minimum_delivery_slots'],
  ['recipient_limit', '$default_recipient_limit'],
  ['recipient_refill_delay', '$default_recipient_refill_delay'],
  ['recipient_refill_limit', '$default_recipient_refill_limit'],
  ['transport_rate_delay', '$default_transport_rate_delay'],
];

/** Delivery agents whose services get per-transport parameters (discard does not). */
const DELIVERY_AGENTS = new Set(['smtp', 'lmtp', 'local', 'virtual', 'error', 'pipe']);

export interface Registry {
  /** Every built-in name. */
  readonly builtin: readonly string[];
  /** Built-in default text, unexpanded, as `postconf -d` prints it. */
  defaultText(name: string): string | undefined;
  /** name -> default text of the service-defined parameters of these master.cf services. */
  serviceParams(services: ReadonlyArray<{ name: string; command: string }>): Map<string, string>;
}

export async function loadRegistry(): Promise<Registry> {
  let mod: RegistryModule;
  try {
    mod = (await import('../global/params.js' as string)) as RegistryModule;
  } catch {
    mod = (await import('../global/params_table.js' as string)) as RegistryModule;
  }
  const table = mod.PARAMS ?? mod.GENERATED ?? {};
  const defaultText =
    mod.defaultText ??
    ((name: string): string | undefined => {
      const spec = table[name];
      if (!spec) return undefined;
      return typeof spec.default === 'string' ? spec.default : spec.default();
    });
  return {
    builtin: Object.keys(table),
    defaultText,
    serviceParams(services) {
      const out = new Map<string, string>();
      for (const s of services) {
        if (DELIVERY_AGENTS.has(s.command)) {
          for (const [suffix, def] of DELIVERY_SUFFIXES) out.set(`${s.name}_${suffix}`, def);
        }
        // Programs that run external commands get a time limit of their own.
        if (s.command === 'pipe' || s.command === 'spawn')
          out.set(`${s.name}_time_limit`, '$command_time_limit');
      }
      return out;
    },
  };
}

/** The names main.cf sets, in file order (config.ts's names() when it has one). */
export function mainCfNames(cfg: MainConfig): string[] {
  const c = cfg as unknown as { names?: () => string[] };
  return typeof c.names === 'function' ? c.names() : [];
}
