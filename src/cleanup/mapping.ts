/*
 * mapping - cleanup's one door to address mapping (addr_map.ts)
 *
 * Canonical, masquerade, virtual alias and bcc mapping live in
 * AddressMapper (src/cleanup/addr_map.ts, another engineer's module). This
 * adapter loads it when present and otherwise maps nothing, so the rest
 * of cleanup works and is tested on its own. Mappers are opened once per
 * combination of options and shared by all messages of this process.
 */
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';

export type MapResult<T> = { ok: true; value: T } | { ok: false; defer: string };

export interface MapperOptions {
  mapping: boolean;
  bcc: boolean;
  context: 'local' | 'remote';
  rewriteHeaders: boolean;
}

export interface Mapper {
  envelopeSender(addr: string): Promise<MapResult<string>>;
  envelopeRecipient(addr: string): Promise<MapResult<string>>;
  virtualAlias(addr: string): Promise<MapResult<string[]>>;
  headerValue(name: string, value: string): Promise<MapResult<string>>;
  bcc(sender: string, recipients: readonly string[]): Promise<MapResult<string[]>>;
  close(): Promise<void>;
}

/** No mapping at all: addresses pass unchanged. */
export const IDENTITY_MAPPER: Mapper = {
  envelopeSender: async (a) => ({ ok: true, value: a }),
  envelopeRecipient: async (a) => ({ ok: true, value: a }),
  virtualAlias: async (a) => ({ ok: true, value: [a] }),
  headerValue: async (_n, v) => ({ ok: true, value: v }),
  bcc: async () => ({ ok: true, value: [] }),
  close: async () => {},
};

interface AddrMapModule {
  AddressMapper: { open(cfg: MainConfig, opts: MapperOptions): Promise<Mapper> };
}

let modulePromise: Promise<AddrMapModule | null> | undefined;

function loadModule(): Promise<AddrMapModule | null> {
  // A variable specifier: the module may not exist yet when this compiles.
  const spec = './addr_map.js';
  modulePromise ??= (import(spec) as Promise<AddrMapModule>).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND') msg.warn(`address mapping: ${(e as Error).message}`);
    return null;
  });
  return modulePromise;
}

const mappers = new Map<string, Promise<Mapper>>();

/** The mapper for these options (opened on first use, then shared). */
export function openMapper(cfg: MainConfig, opts: MapperOptions): Promise<Mapper> {
  const key = JSON.stringify(opts);
  let m = mappers.get(key);
  if (m === undefined) {
    m = loadModule().then((mod) => (mod ? mod.AddressMapper.open(cfg, opts) : IDENTITY_MAPPER));
    mappers.set(key, m);
  }
  return m;
}

export async function closeMappers(): Promise<void> {
  const all = [...mappers.values()];
  mappers.clear();
  await Promise.all(all.map(async (p) => (await p).close().catch(() => {})));
}
