/*
 * texthash - "texthash:/path/name": a postmap(1) source file, read at open
 *
 * No compiled file: the source is parsed into memory when the table is
 * opened, with postmap's syntax and warnings (table_source.ts). Like
 * Postfix, it cannot be built with postmap or changed, only listed; a missing
 * file is "open database /path/name: No such file or directory". Lines
 * that are not valid UTF-8 are refused with SMTPUTF8, as postmap refuses them.
 */
import { readFileSync } from 'node:fs';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { decodeBytes, hasRawBytes, printable } from './bytes.js';
import { type Dict, type DictFlags, DictOpenError, type DictOpener, NOTFOUND } from './dict.js';
import { foldKey } from './store_indexed.js';
import { logicalLines, parseEntry } from './table_source.js';

export const openDict: DictOpener = async (name: string, flags: DictFlags): Promise<Dict> => {
  if (flags.mode !== 'read') {
    throw new DictOpenError(
      `texthash:${name}`,
      'unsupported dictionary type: texthash does not support bulk-mode creation.',
    );
  }
  let text: string;
  try {
    text = decodeBytes(readFileSync(name));
  } catch (e) {
    throw new DictOpenError(`texthash:${name}`, `open database ${name}: ${strerror(e)}`);
  }
  const table = new Map<string, string>();
  const shown = (t: string) => printable(t, flags.utf8);
  for (const { line, text: t } of logicalLines(text, name, (w) => msg.warn(shown(w)))) {
    if (flags.utf8 && hasRawBytes(t)) {
      msg.warn(`${name}, line ${line}: non-UTF-8 input "${shown(t)}" -- ignoring this line`);
      continue;
    }
    const e = parseEntry(t);
    if (e.kind === 'error') {
      msg.warn(
        `${name}, line ${line}: ${shown(e.warning)}${e.warning.startsWith('expected') ? ' -- ignoring this line' : ''}`,
      );
      continue;
    }
    const k = foldKey(e.key, flags);
    if (table.has(k)) {
      if (flags.dup === 'warn') msg.warn(`${name}, line ${line}: duplicate entry: "${e.key}"`);
      if (flags.dup !== 'replace') continue;
    }
    table.set(k, e.value);
  }
  return {
    type: 'texthash',
    name,
    async lookup(key) {
      const v = table.get(foldKey(key, flags));
      return v === undefined ? NOTFOUND : { kind: 'found', value: v };
    },
    async *sequence() {
      yield* table;
    },
    async close() {},
  };
};
