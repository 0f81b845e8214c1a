/*
 * dict_open - every table type in one visible table, like Postfix's dict_open
 *
 * Each type lives in its own module exporting `openDict: DictOpener`. The
 * modules are loaded on first use, so a short-lived command such as
 * sendmail pays only for the types its configuration names.
 */
import { type Dict, type DictFlags, DictOpenError, type DictOpener, READ_FLAGS } from './dict.js';
import { checkedDict } from './dict_checks.js';

/** type name -> module file under src/maps (dynamically imported). */
export const DICT_TYPES: Readonly<Record<string, string>> = {
  btree: './btree.js',
  cdb: './cdb.js',
  cidr: './cidr.js',
  environ: './environ.js',
  fail: './fail.js',
  hash: './hash.js',
  inline: './inline.js',
  lmdb: './lmdb.js',
  pcre: './pcre.js',
  pipemap: './pipemap.js',
  proxy: './proxy.js',
  randmap: './randmap.js',
  regexp: './regexp.js',
  socketmap: './socketmap.js',
  static: './static.js',
  tcp: './tcp.js',
  texthash: './texthash.js',
  unionmap: './unionmap.js',
};

/** Split "type:name" at the first colon. */
export function splitDictSpec(spec: string): { type: string; name: string } | null {
  const colon = spec.indexOf(':');
  if (colon <= 0) return null;
  return { type: spec.slice(0, colon), name: spec.slice(colon + 1) };
}

const loaded = new Map<string, DictOpener>();

async function opener(type: string): Promise<DictOpener | undefined> {
  const hit = loaded.get(type);
  if (hit) return hit;
  const file = DICT_TYPES[type];
  if (!file) return undefined;
  const mod = (await import(file)) as { openDict: DictOpener };
  loaded.set(type, mod.openDict);
  return mod.openDict;
}

/**
 * Open "type:name" for a caller: the table with the checks every answer
 * goes through (dict_checks.ts). Throws DictOpenError with Postfix's
 * wording when it cannot.
 */
export async function openDict(spec: string, flags: DictFlags = READ_FLAGS): Promise<Dict> {
  return checkedDict(await openMember(spec, flags), flags, 'outer');
}

/** Open a table inside another (pipemap, unionmap, proxy): only the outer table checks empty values. */
export async function openMember(spec: string, flags: DictFlags = READ_FLAGS): Promise<Dict> {
  return checkedDict(await openPlain(spec, flags), flags, 'member');
}

async function openPlain(spec: string, flags: DictFlags): Promise<Dict> {
  const parts = splitDictSpec(spec);
  if (!parts) throw new DictOpenError(spec, `need dictionary type:name, got "${spec}"`);
  if (parts.name === '') {
    throw new DictOpenError(spec, `open dictionary: expecting "type:name" form instead of "${spec}"`);
  }
  const open = await opener(parts.type);
  if (!open) throw new DictOpenError(spec, `unsupported dictionary type: ${parts.type}`);
  return open(parts.name, flags);
}

/** The types this build supports, for postconf -m. */
export function dictTypes(): string[] {
  return Object.keys(DICT_TYPES).sort();
}
