/*
 * mapping - cleanup's one door to address mapping (addr_map.ts)
 *
 * Canonical, masquerade, virtual alias and bcc mapping live in
 * AddressMapper (src/cleanup/addr_map.ts). A mapper is made per message
 * (its options are the message's cleanup flags and rewrite context, its
 * queue ID goes into the mapper's warnings); the tables behind it are
 * opened once per configuration and released when the process stops.
 * A failed lookup comes back as { ok: false, defer: "4.3.0 ...", stat }:
 * the mapper has already logged Postfix's warning.
 */
import type { MainConfig } from '../global/config.js';
import { AddressMapper, type MapperOptions, type MapResult } from './addr_map.js';

export type { MapperOptions, MapResult };

export interface Mapper {
  envelopeSender(addr: string): Promise<MapResult<string>>;
  envelopeRecipient(addr: string): Promise<MapResult<string>>;
  virtualAlias(addr: string): Promise<MapResult<string[]>>;
  headerValue(name: string, value: string): Promise<MapResult<string>>;
  bcc(sender: string, recipients: readonly string[]): Promise<MapResult<string[]>>;
}

export function openMapper(cfg: MainConfig, opts: MapperOptions): Promise<Mapper> {
  return AddressMapper.open(cfg, opts);
}

export async function closeMappers(cfg: MainConfig): Promise<void> {
  await AddressMapper.release(cfg);
}
