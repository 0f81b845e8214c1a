/*
 * template_expand - $name expansion in bounce template message text
 *
 * Each text line is expanded on its own with main.cf's $name syntax
 * (src/global/params_expand.ts). Names, as bounce(5) says:
 *   delay_warning_time_UNIT, maximal_queue_lifetime_UNIT: the parameter
 *     in whole seconds, minutes, hours, days or weeks (truncated); a
 *     result above 999 or a zero result from a non-zero time is warned
 *     about, any other UNIT is fatal;
 *   myhostname, mydomain: with smtputf8_enable = yes, ACE labels
 *     (xn--...) are shown in UTF-8;
 *   any other name: its main.cf value, provided Postfix's bounce(8)
 *     would know it (set in main.cf, or one of TEMPLATE_PARAMS).
 * A plain reference to an unknown name ($name, ${name}, $(name), also
 * inside a ${x?...} text) is fatal, as is bad $name syntax; a name that
 * is only tested (${name?text}, ${name:text}) may be unknown.
 */
import { domainToUnicode } from 'node:url';
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { expandText } from '../global/params_expand.js';
import type { BounceTemplate } from './template.js';
import { TEMPLATE_PARAMS } from './template_params.js';

const TIME_PARAMS = ['delay_warning_time', 'maximal_queue_lifetime'] as const;
const UNITS: Readonly<Record<string, number>> = {
  seconds: 1,
  minutes: 60,
  hours: 3600,
  days: 86400,
  weeks: 604800,
};

/** Values the caller supplies: they take precedence over main.cf. */
export type ExtraParams = Readonly<Record<string, string>>;

/** What the expansion needs from the configuration, read once. */
export interface ExpandContext {
  readonly cfg: MainConfig;
  /** delay_warning_time and maximal_queue_lifetime, in seconds. */
  readonly times: Readonly<Record<(typeof TIME_PARAMS)[number], number>>;
  readonly extra: ExtraParams;
}

/** "$name" as a plain reference (not "$$name", not a ${name?...} test) somewhere in text. */
function plainlyReferenced(text: string, name: string): boolean {
  const re = /\$\$|\$([A-Za-z0-9_]+)|\$[{(][ \t\n\r\f\v]*([A-Za-z0-9_]*)[ \t\n\r\f\v]*[})]/g;
  for (const m of text.matchAll(re)) if ((m[1] ?? m[2]) === name) return true;
  return false;
}

function timeValue(ctx: ExpandContext, t: BounceTemplate, name: string): string | undefined {
  for (const param of TIME_PARAMS) {
    if (!name.startsWith(`${param}_`)) continue;
    const suffix = name.slice(param.length + 1);
    const divisor = UNITS[suffix];
    if (divisor === undefined) {
      return msg.fatal(`${t.origin}: unrecognized suffix "${suffix}" in parameter "${name}"`);
    }
    const seconds = ctx.times[param];
    const result = Math.trunc(seconds / divisor);
    if (result > 999) {
      msg.warn(
        `${t.origin}: excessive result "${result}" in ${t.kind} template conversion of parameter "${name}"`,
      );
      msg.warn(`please increase time unit "${suffix}" of "${name}" in ${t.kind} template`);
      msg.warn('for instructions see the bounce(5) manual');
    } else if (result === 0 && seconds > 0) {
      msg.warn(`${t.origin}: zero result in ${t.kind} template conversion of parameter "${name}"`);
      msg.warn(`please reduce time unit "${suffix}" of "${name}" in ${t.kind} template`);
      msg.warn('for instructions see the bounce(5) manual');
    }
    return String(result);
  }
  return undefined;
}

function paramValue(ctx: ExpandContext, name: string): string | undefined {
  const extra = ctx.extra[name];
  if (extra !== undefined) return extra;
  if (!ctx.cfg.isSet(name) && !TEMPLATE_PARAMS.has(name)) return undefined;
  const value = ctx.cfg.get(name);
  if ((name === 'myhostname' || name === 'mydomain') && ctx.cfg.bool('smtputf8_enable')) {
    return value.includes('xn--') ? domainToUnicode(value) || value : value;
  }
  return value;
}

/** One line of message text, expanded; fatal on unknown names and bad syntax. */
export function expandLine(ctx: ExpandContext, t: BounceTemplate, line: string): string {
  const unknown: string[] = [];
  const r = expandText(line, (name) => {
    const v = timeValue(ctx, t, name) ?? paramValue(ctx, name);
    if (v === undefined) {
      unknown.push(name);
      return undefined;
    }
    // Already expanded: keep its "$" literal when params_expand expands it again.
    return v.replaceAll('$', () => '$$');
  });
  if (r.errors.length > 0) {
    for (const e of r.errors) msg.warn(e);
    return msg.fatal(`${t.origin}: bad $name syntax in ${t.kind} template: ${line}`);
  }
  if (unknown.some((name) => plainlyReferenced(line, name))) {
    return msg.fatal(`${t.origin}: undefined $name in ${t.kind} template: ${line}`);
  }
  return r.value;
}
