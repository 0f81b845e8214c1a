/*
 * host_defaults - defaults that Postfix computes instead of declaring
 *
 * myhostname, mydomain and mynetworks come from this host the way Postfix
 * derives them; process_id and process_name from this process; the install
 * paths from where this Postroom checkout lives (docs/parameters.md says
 * which differ from Debian's Postfix, and why). Each is a function of the
 * configuration seen so far, because Postfix's are too: myhostname appends
 * an explicitly set mydomain, mynetworks follows mynetworks_style.
 */
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msg } from './msg.js';
import { ConfigError, type ParamLookup } from './params_spec.js';

/** The checkout: this file is dist/src/global/host_defaults.js once built. */
export const INSTALL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const DEF_MYDOMAIN = 'localdomain';

/** gethostname(); a name without a dot gets $mydomain (if set) or "localdomain". */
export function myhostname(cfg?: ParamLookup): string {
  const name = hostname();
  if (name.includes('.')) return name;
  const domain = cfg?.explicit?.('mydomain');
  return `${name}.${domain ?? DEF_MYDOMAIN}`;
}

/** Everything after the first dot of $myhostname, else "localdomain". */
export function mydomain(cfg?: ParamLookup): string {
  const host = cfg ? cfg.get('myhostname') : myhostname();
  const dot = host.indexOf('.');
  return dot < 0 ? DEF_MYDOMAIN : host.slice(dot + 1);
}

export function process_id(): string {
  return String(process.pid);
}

/** The program's own name: "postconf", or "smtpd" for "postfix/smtpd". */
export function process_name(): string {
  const name = msg.program;
  return name.slice(name.lastIndexOf('/') + 1);
}

export function command_directory(): string {
  return join(INSTALL_ROOT, 'bin');
}
export function daemon_directory(): string {
  return join(INSTALL_ROOT, 'dist/src');
}
export function sendmail_path(): string {
  return join(INSTALL_ROOT, 'bin/sendmail');
}
export function newaliases_path(): string {
  return join(INSTALL_ROOT, 'bin/newaliases');
}
export function mailq_path(): string {
  return join(INSTALL_ROOT, 'bin/mailq');
}

/**
 * The networks of this host's interfaces, IPv4 first, as Postfix prints
 * them: "127.0.0.0/8 192.0.2.0/24 [::1]/128 [fe80::]/64".
 */
export function mynetworks(cfg?: ParamLookup): string {
  const style = (cfg ? cfg.get('mynetworks_style') : 'subnet').trim();
  if (style !== 'host' && style !== 'subnet' && style !== 'class') {
    throw new ConfigError(`unknown mynetworks_style parameter value: ${style}`);
  }
  const protocols = cfg ? cfg.get('inet_protocols') : 'all';
  const words = protocols.split(/[\s,]+/).filter((w) => w !== '');
  const v4 = words.includes('all') || words.includes('ipv4');
  const v6 = words.includes('all') || words.includes('ipv6');
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const bits = prefixLength(a.netmask);
      if (a.family === 'IPv4' && v4) {
        const len = style === 'host' ? 32 : style === 'class' ? classLength(a.address, bits) : bits;
        ipv4.push(`${maskV4(a.address, len)}/${len}`);
      } else if (a.family === 'IPv6' && v6) {
        const len = style === 'host' ? 128 : bits;
        ipv6.push(`[${maskV6(a.address, len)}]/${len}`);
      }
    }
  }
  return [...ipv4, ...ipv6].join(' ');
}

function prefixLength(netmask: string): number {
  let bits = 0;
  for (const part of netmask.includes(':') ? netmask.split(':') : netmask.split('.')) {
    let n = netmask.includes(':') ? Number.parseInt(part || '0', 16) : Number(part);
    while (n) {
      bits += n & 1;
      n >>>= 1;
    }
  }
  return bits;
}

/** Class A/B/C networks; anything else keeps its own mask. */
function classLength(address: string, bits: number): number {
  const first = Number(address.split('.')[0]);
  if (first < 128) return 8;
  if (first < 192) return 16;
  if (first < 224) return 24;
  return bits;
}

function maskV4(address: string, len: number): string {
  const n = address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

function maskV6(address: string, len: number): string {
  const words = expandV6(address.replace(/%.*$/, ''));
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, len - i * 16));
    words[i] = (words[i] ?? 0) & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  return compressV6(words);
}

function expandV6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((w) => Number.parseInt(w, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** RFC 5952 text: the longest run (of two or more) of zero words becomes "::". */
function compressV6(words: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
