/*
 * proxy - "proxy:type:name", shared access to a table through proxymap(8)
 *
 * Postfix sends proxy: lookups to the proxymap daemon so that chrooted or
 * unprivileged processes can use tables they could not open, and so that
 * many processes share one open table. Postroom has no proxymap daemon yet:
 * proxy: opens the inner table in this process. What an administrator sees
 * stays the same: the same keys give the same values, a table that cannot
 * answer gives retry, and, as with Postfix's proxy client, the table
 * cannot be listed (postmap -s is fatal). Not enforced (yet): Postfix's
 * proxymap refuses tables missing from proxy_read_maps; here they work.
 */

import { msg } from '../global/msg.js';
import { isPatternDict } from './access_search.js';
import { type Dict, DictOpenError, type DictOpener } from './dict.js';
import { openMember as openAny, splitDictSpec } from './index.js';

export const openDict: DictOpener = async (name, flags) => {
  if (!splitDictSpec(name)) {
    throw new DictOpenError(
      `proxy:${name}`,
      `open dictionary: expecting "type:name" form instead of "${name}"`,
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
  return dict;
};
