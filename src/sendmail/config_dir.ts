/*
 * config_dir - sendmail's -C argument: a configuration directory, or a
 * file in one (Sendmail users pass a .cf file); undefined means the
 * default ($MAIL_CONFIG, then /etc/postfix).
 */

import { statSync } from 'node:fs';
import { dirname } from 'node:path';

export function configDirOf(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  try {
    return statSync(arg).isDirectory() ? arg : dirname(arg);
  } catch {
    // A name that does not exist: let loadMainConfig report it as a directory.
    return arg;
  }
}
