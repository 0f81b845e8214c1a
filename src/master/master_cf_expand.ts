/*
 * master_cf_expand - $name expansion of a service's "-o" values
 *
 * postconf -Mx/-Fx/-Px expand a "-o" value with that service's own "-o"
 * settings visible first (the last of each name wins), then service_name
 * (the service's name), then main.cf and the built-in defaults. When
 * MainConfig offers withOverrides() (the main.cf expander with a local
 * scope), that does the work; otherwise a small expander here handles
 * $name, ${name}, $(name), ${name?text}, ${name:text} and
 * ${name?{text}:{text}}, asking MainConfig for names it does not hold.
 */
import type { MainConfig } from '../global/config.js';
import type { ServiceParam } from './master_cf.js';

type WithOverrides = { withOverrides(overrides: readonly string[]): MainConfig };

const MAX_DEPTH = 100;

export function serviceScope(serviceName: string, params: readonly ServiceParam[]): Map<string, string> {
  const local = new Map<string, string>([['service_name', serviceName]]);
  for (const p of params) local.set(p.name, p.value);
  return local;
}

export function expandForService(cfg: MainConfig, text: string, local: ReadonlyMap<string, string>): string {
  const w = cfg as unknown as Partial<WithOverrides>;
  if (typeof w.withOverrides === 'function')
    return w.withOverrides([...local].map(([name, value]) => `${name}=${value}`)).expand(text);
  const lookup = (name: string): string | undefined => {
    const v = local.get(name);
    if (v !== undefined) return v;
    const g = cfg.get(name);
    return g === '' && cfg.raw(name) === undefined ? undefined : g;
  };
  return expandText(text, lookup, 0);
}

/** Index of the bracket closing the one at `open`, or -1. */
function closing(text: string, open: number): number {
  const o = text[open]!;
  const c = o === '{' ? '}' : ')';
  let level = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === o) level++;
    else if (text[i] === c && --level === 0) return i;
  }
  return -1;
}

/** "{a}:{b}" after "?" -> [a, b]; plain text -> [text, undefined]. */
function branches(rest: string): [string, string | undefined] {
  if (rest.startsWith('{')) {
    const end = closing(rest, 0);
    if (end > 0) {
      const a = rest.slice(1, end);
      const tail = rest.slice(end + 1);
      if (tail.startsWith(':{') && tail.endsWith('}')) return [a, tail.slice(2, -1)];
      return [a, undefined];
    }
  }
  return [rest, undefined];
}

function expandText(text: string, lookup: (name: string) => string | undefined, depth: number): string {
  if (depth > MAX_DEPTH) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '{' || next === '(') {
      const end = closing(text, i + 1);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const inner = text.slice(i + 2, end);
      const m = /^([A-Za-z0-9_]+)(?:([?:])([\s\S]*))?$/.exec(inner);
      i = end + 1;
      if (!m) continue;
      const value = lookup(m[1]!);
      const defined = value !== undefined && value !== '';
      if (m[2] === undefined) {
        out += value === undefined ? '' : expandText(value, lookup, depth + 1);
      } else {
        const [a, b] = branches(m[3]!);
        if (m[2] === '?')
          out += defined ? expandText(a, lookup, depth + 1) : b ? expandText(b, lookup, depth + 1) : '';
        else out += defined ? expandText(value, lookup, depth + 1) : expandText(a, lookup, depth + 1);
      }
      continue;
    }
    const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1));
    if (!m) {
      out += ch;
      i++;
      continue;
    }
    const value = lookup(m[0]);
    out += value === undefined ? '' : expandText(value, lookup, depth + 1);
    i += 1 + m[0].length;
  }
  return out;
}
