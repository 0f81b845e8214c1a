/*
 * tables - the lookup tables of local's "maps" parameters (alias_maps,
 * mailbox_command_maps, ...), opened once per process. A table that cannot
 * be opened answers "retry" (Postfix's surrogate table), so mail waits
 * instead of bouncing while the administrator fixes it.
 */

import { msg } from '../global/msg.js';
import { type Dict, DictOpenError, READ_FLAGS, retry } from '../maps/dict.js';
import { openDict } from '../maps/index.js';

export class Tables {
  readonly #maps = new Map<string, Promise<Dict[]>>();

  /** The tables of a maps parameter. */
  tables(param: string, specs: readonly string[]): Promise<Dict[]> {
    let p = this.#maps.get(param);
    if (p === undefined) {
      p = Promise.all(
        specs.map((spec) =>
          openDict(spec, { ...READ_FLAGS, title: param }).catch((e: unknown): Dict => {
            if (!(e instanceof DictOpenError)) throw e;
            msg.warn(`${param}: ${e.message}`);
            return {
              type: 'surrogate',
              name: spec,
              lookup: async () => retry(e.message),
              close: async () => {},
            };
          }),
        ),
      );
      this.#maps.set(param, p);
    }
    return p;
  }

  /** First answer of a maps parameter: the value, null when not found, 'retry' when a table failed. */
  async find(param: string, specs: readonly string[], key: string): Promise<string | null | 'retry'> {
    if (specs.length === 0) return null;
    for (const d of await this.tables(param, specs)) {
      const r = await d.lookup(key);
      if (r.kind === 'found') return r.value;
      if (r.kind === 'retry') {
        msg.warn(`${param} lookup error for "${key}"`);
        return 'retry';
      }
    }
    return null;
  }

  async close(): Promise<void> {
    for (const p of this.#maps.values()) for (const d of await p) await d.close();
    this.#maps.clear();
  }
}
