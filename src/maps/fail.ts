/*
 * fail - a table whose every lookup is a temporary error
 *
 * "fail:name" exists to test error handling: each lookup answers retry,
 * so callers must defer; postmap -q reports "query error" and -s
 * "sequence error", as Postfix does. The name is used for logging only.
 */
import { type Dict, type DictOpener, retry } from './dict.js';

/** Postfix's errno text for a table that failed on purpose (EAPPLICATION). */
export const FAIL_REASON = 'Application error';

export const openDict: DictOpener = async (name) => {
  const answer = retry(FAIL_REASON);
  const dict: Dict = {
    type: 'fail',
    name,
    // Postfix's fail table is a pattern table: only full keys reach it.
    pattern: true,
    lookup: async () => answer,
    // An async generator that fails at once: sequencing errors, as lookups do.
    // biome-ignore lint/correctness/useYield: failing is all it does
    async *sequence() {
      throw new Error(FAIL_REASON);
    },
    close: async () => {},
  };
  return dict;
};
