/*
 * tables - virtual(8)'s lookups: the recipient's mailbox, uid and gid
 *
 * Each of virtual_mailbox_maps, virtual_uid_maps and virtual_gid_maps is
 * searched with the recipient address in lower case, in the virtual(5)
 * order (user+ext@domain, user@domain, then user+ext and user when the
 * domain is in $mydestination, then @domain; partial keys skip regular
 * expression tables). A table that cannot be opened answers
 * "retry" (the mail waits) and is reported once when opened.
 */

import { msg } from '../global/msg.js';
import { addressMapKeys, searchKeys } from '../maps/access_search.js';
import { listItems } from '../maps/braces.js';
import { type Dict, DictOpenError, READ_FLAGS, retry } from '../maps/dict.js';
import { openDict } from '../maps/index.js';
import { DomainList } from '../trivial-rewrite/domain_list.js';

export type TableAnswer =
  | { readonly kind: 'found'; readonly value: string }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'retry' };

export class VirtualTables {
  readonly #open = new Map<string, Promise<Dict[]>>();
  readonly #mydestination: DomainList;

  constructor(
    private readonly specs: Readonly<Record<string, string>>,
    private readonly recipientDelimiter: string,
    mydestination: string,
    parentMatches: string,
  ) {
    this.#mydestination = new DomainList('mydestination', mydestination, parentMatches, 'string');
  }

  /** Look `user` up in the tables of `param` (e.g. "virtual_uid_maps"). */
  async find(param: string, user: string): Promise<TableAnswer> {
    const maps = await this.#tables(param);
    // In a domain of $mydestination (local_transport = virtual) the bare user is tried too.
    const at = user.lastIndexOf('@');
    const local = at < 0 ? 'nomatch' : await this.#mydestination.match(user.slice(at + 1));
    if (local === 'retry') return { kind: 'retry' };
    const keys = addressMapKeys(user, {
      recipientDelimiter: this.recipientDelimiter,
      isLocal: () => local === 'match',
    });
    const r = await searchKeys(maps, keys);
    if (r.kind === 'found') return { kind: 'found', value: r.value };
    return r.kind === 'retry' ? { kind: 'retry' } : { kind: 'notfound' };
  }

  #tables(param: string): Promise<Dict[]> {
    let p = this.#open.get(param);
    if (p === undefined) {
      p = Promise.all(
        listItems(this.specs[param] ?? '').map((spec) =>
          openSensitive(spec, param).catch((e: unknown): Dict => {
            if (!(e instanceof DictOpenError)) throw e;
            msg.error(e.message);
            msg.warn(`${spec} is unavailable. ${e.message}`);
            return unavailable(spec, e.message);
          }),
        ),
      );
      this.#open.set(param, p);
    }
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.#open.values()) for (const d of await p) await d.close();
    this.#open.clear();
    await this.#mydestination.close();
  }
}

/*
 * Mailbox paths and uids are security sensitive: Postfix refuses tables
 * whose answers come from an unauthenticated network server.
 */
const UNTRUSTED: Readonly<Record<string, string>> = {
  tcp: 'map is not allowed for security sensitive data',
  socketmap: 'map is not allowed for security-sensitive data',
};

function openSensitive(spec: string, param: string): Promise<Dict> {
  const colon = spec.indexOf(':');
  const refusal = colon > 0 ? UNTRUSTED[spec.slice(0, colon)] : undefined;
  if (refusal !== undefined) return Promise.reject(new DictOpenError(spec, `${spec} ${refusal}`));
  return openDict(spec, { ...READ_FLAGS, title: param });
}

/** A table that could not be opened: every lookup says retry (Postfix's surrogate table). */
function unavailable(spec: string, reason: string): Dict {
  const colon = spec.indexOf(':');
  return {
    type: colon > 0 ? spec.slice(0, colon) : spec,
    name: colon > 0 ? spec.slice(colon + 1) : '',
    lookup: async (key: string) => {
      msg.warn(`${spec} lookup error for "${key}"`);
      return retry(reason);
    },
    close: async () => {},
  };
}
