/*
 * interfaces - the addresses that make a [domain literal] local
 *
 * An address such as user@[192.0.2.1] is for this machine when the
 * literal is one of $inet_interfaces (the keyword "all" meaning every
 * configured interface, "loopback-only" the loopback ones) or one of
 * $proxy_interfaces. IPv4 and IPv6 as inet_protocols allows. Host names in
 * those lists are looked up once (hosts file or DNS); a name that does not
 * resolve is reported and adds nothing.
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { msg } from '../global/msg.js';

/** Lower-case, compressed form so that "::1" and "0:0::1" compare equal. */
export function normalizeIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

export async function localInterfaceAddresses(
  inetInterfaces: string,
  proxyInterfaces: string,
  inetProtocols: string,
): Promise<Set<string>> {
  const protos = inetProtocols.toLowerCase().split(/[\s,]+/);
  const v4 = protos.includes('all') || protos.includes('ipv4');
  const v6 = protos.includes('all') || protos.includes('ipv6');
  const out = new Set<string>();
  const add = (ip: string) => {
    const fam = isIP(ip);
    if ((fam === 4 && v4) || (fam === 6 && v6)) out.add(normalizeIp(ip));
  };
  for (const word of `${inetInterfaces} ${proxyInterfaces}`.split(/[\s,]+/).filter((w) => w !== '')) {
    const w = word.toLowerCase();
    if (w === 'all') {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(a.address);
    } else if (w === 'loopback-only' || w === 'localhost') {
      add('127.0.0.1');
      add('::1');
    } else {
      const bare = w.replace(/^\[(.*)\]$/, '$1');
      if (isIP(bare) !== 0) add(bare);
      else {
        try {
          for (const a of await lookup(bare, { all: true })) add(a.address);
        } catch {
          msg.warn(`host not found: ${bare}`);
        }
      }
    }
  }
  return out;
}
