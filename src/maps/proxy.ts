/*
 * proxy - "proxy:type:name", shared access to a table through proxymap(8)
 *
 * Postfix sends proxy: lookups to the proxymap daemon so that chrooted or
 * unprivileged processes can use tables they could not open, and so that
 * many processes share one open table. Postroom has no proxymap daemon:
 * proxy: opens the inner table in this process. What an administrator sees
 * stays the same: the same keys give the same values, a table that cannot
 * answer gives retry, the table cannot be listed (postmap -s is fatal),
 * and only approved tables open, as proxymap approves them: for reading
 * (proxymap service) "type:name" must be listed in $proxy_read_maps, for
 * changes (postmap -i/-d: proxywrite service) in $proxy_write_maps, each
 * list item with or without its "proxy:" prefix. An unapproved table fails
 * to open with the words Postfix's client prints ('proxymap service is not
 * configured for table "type:name"'), after the hint proxymap logs.
 */

import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { isPatternDict } from './access_search.js';
import { listItems } from './braces.js';
import { type Dict, type DictFlags, DictOpenError, type DictOpener } from './dict.js';
import { openMember as openAny, splitDictSpec } from './index.js';

const PREFIX = 'proxy:';

/** The tables a proxymap list approves: its items, "proxy:" prefix removed. */
export function approvedTables(list: string): Set<string> {
  const tables = new Set<string>();
  for (const item of listItems(list)) {
    const proxied = item.slice(0, PREFIX.length).toLowerCase() === PREFIX;
    tables.add(proxied ? item.slice(PREFIX.length) : item);
  }
  return tables;
}

function parameter(flags: DictFlags, name: string): string {
  const config = flags.config ?? loadMainConfig({ missingOk: true });
  return config.get(name);
}

export const openDict: DictOpener = async (name, flags) => {
  if (!splitDictSpec(name)) {
    throw new DictOpenError(
      `proxy:${name}`,
      `open dictionary: expecting "type:name" form instead of "${name}"`,
    );
  }
  const write = flags.mode !== 'read';
  const list = write ? 'proxy_write_maps' : 'proxy_read_maps';
  if (!approvedTables(parameter(flags, list)).has(name)) {
    msg.warn(
      `to approve this table for ${write ? 'read-write' : 'read-only'} access, list ${PREFIX}${name} in main.cf:${list}`,
    );
    throw new DictOpenError(
      `proxy:${name}`,
      `${write ? 'proxywrite' : 'proxymap'} service is not configured for table "${name}"`,
    );
  }
  const inner = await openAny(name, flags);
  const dict: Dict = {
    type: 'proxy',
    name,
    pattern: isPatternDict(inner),
    lookup: (key) => inner.lookup(key),
    // biome-ignore lint/correctness/useYield: proxied tables cannot be listed, as in Postfix
    async *sequence() {
      msg.fatal("can't sequence maps via the proxy service");
    },
    close: () => inner.close(),
  };
  if (write) {
    if (inner.update) dict.update = inner.update.bind(inner);
    if (inner.delete) dict.delete = inner.delete.bind(inner);
    if (inner.sync) dict.sync = inner.sync.bind(inner);
  }
  return dict;
};
