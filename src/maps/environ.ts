/*
 * environ - the process environment as a table
 *
 * The key is a variable name, the value its value; the table name is
 * ignored. Keys are folded like any fixed-string table's, so with postmap's
 * default folding only lowercase variable names can be found ("postmap -f
 * -q TZ environ:" finds TZ), exactly as in Postfix. No sequence. The
 * environment is the process's own: a command (postmap) has already added
 * what Postfix's commands add (MAIL_CONFIG, MAIL_LOGTAG, import_environment's
 * name=value settings, see postmap_main.ts).
 */
import { type Dict, type DictOpener, found, NOTFOUND } from './dict.js';
import { foldKey } from './fold.js';

export const openDict: DictOpener = async (name, flags) => {
  const dict: Dict = {
    type: 'environ',
    name,
    async lookup(key) {
      const value = process.env[foldKey(key, flags)];
      return value === undefined ? NOTFOUND : found(value);
    },
    close: async () => {},
  };
  return dict;
};
