/*
 * master_check - what a configuration asks of Postroom that it does not do
 *
 * A main.cf parameter is implemented when Postroom's code reads it (the
 * generated list in src/global/params_used.ts, plus per-service names such
 * as "<transport>_destination_concurrency_limit"), or when an implemented
 * parameter's value or default refers to it as $name. Anything else that
 * main.cf sets, or master.cf sets with "-o", is reported, never silently
 * ignored: by "postfix check" and by master at start-up and reload. master.cf services whose command
 * Postroom lacks are reported the same way (master does not run them).
 */

import type { MainConfig } from '../global/config.js';
import { macroNames } from '../global/params_expand.js';
import { PARAM_SUFFIXES_USED, PARAMS_USED } from '../global/params_used.js';

/** The closure of the parameters the code reads over $name references. */
export function implementedParams(cfg: MainConfig): Set<string> {
  const done = new Set<string>();
  const todo = [...PARAMS_USED];
  for (const name of cfg.names())
    if (PARAM_SUFFIXES_USED.some((s) => name.endsWith(s) && name.length > s.length)) todo.push(name);
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (done.has(name)) continue;
    done.add(name);
    const text = cfg.raw(name) ?? defaultQuiet(cfg, name) ?? '';
    for (const ref of macroNames(text)) if (!done.has(ref)) todo.push(ref);
  }
  return done;
}

function defaultQuiet(cfg: MainConfig, name: string): string | undefined {
  try {
    return cfg.defaultOf(name);
  } catch {
    return undefined;
  }
}

/** Parameters main.cf sets (in file order) that Postroom does not implement. */
export function unimplementedParams(cfg: MainConfig): string[] {
  const impl = implementedParams(cfg);
  return cfg.names().filter((n) => (cfg.entry(n)?.line ?? 0) > 0 && !impl.has(n));
}

export function unimplementedText(name: string): string {
  return `parameter ${name} is set but not implemented by Postroom`;
}

/** A master.cf service master will not run: its command is not part of Postroom. */
export function missingCommandText(def: {
  key: string;
  service: { entry: { command: string; line: number } };
}): string {
  const e = def.service.entry;
  return `master.cf: line ${e.line}: service ${def.key}: command ${e.command} is not implemented by Postroom -- service disabled`;
}

/** master.cf "-o name=value" settings Postroom does not implement, one text each. */
export function unimplementedServiceParams(
  cfg: MainConfig,
  defs: readonly { key: string; service: { entry: { line: number; params: readonly { name: string }[] } } }[],
): string[] {
  const impl = implementedParams(cfg);
  const out: string[] = [];
  for (const def of defs) {
    const seen = new Set<string>();
    for (const p of def.service.entry.params) {
      if (impl.has(p.name) || seen.has(p.name)) continue;
      seen.add(p.name);
      out.push(`master.cf: line ${def.service.entry.line}: service ${def.key}: ${unimplementedText(p.name)}`);
    }
  }
  return out;
}
