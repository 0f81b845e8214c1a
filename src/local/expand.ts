/*
 * expand - $user, $home, ... in forward_path, mailbox_command, luser_relay
 * and command_execution_directory (Postfix's local_expand)
 *
 * The names: user, home, shell, recipient, extension, domain, local,
 * recipient_delimiter; the ${name?text}, ${name:text} and 3.0 forms work
 * as in main.cf. A value's characters outside the filter parameter
 * (forward_expansion_filter, command_expansion_filter, ...) become "_",
 * so an address cannot smuggle shell or path syntax into the result.
 * Other names are main.cf parameters.
 */

import type { MainConfig } from '../global/config.js';
import { expandText } from '../global/params_expand.js';

export interface LocalAttrs {
  readonly user?: string;
  readonly home?: string;
  readonly shell?: string;
  readonly recipient?: string;
  readonly extension?: string;
  readonly domain?: string;
  readonly local?: string;
  readonly recipient_delimiter?: string;
}

/** Replace every character not in `allowed` with "_". */
export function filterChars(value: string, allowed: string): string {
  let out = '';
  for (const c of value) out += allowed.includes(c) ? c : '_';
  return out;
}

/** Expand `text`; undefined when it holds a syntax error. */
export function localExpand(
  cfg: MainConfig,
  text: string,
  attrs: LocalAttrs,
  filter: string,
): string | undefined {
  const r = expandText(text, (name) => {
    if (Object.hasOwn(attrs, name) || isLocalName(name)) {
      const v = (attrs as Record<string, string | undefined>)[name];
      if (v === undefined || v === '') return undefined;
      return filterChars(v, filter).replace(/\$/gu, '$$$$');
    }
    return cfg.rawOrDefault(name);
  });
  return r.errors.length > 0 ? undefined : r.value;
}

const NAMES = new Set([
  'user',
  'home',
  'shell',
  'recipient',
  'extension',
  'domain',
  'local',
  'recipient_delimiter',
]);

function isLocalName(name: string): boolean {
  return NAMES.has(name);
}
