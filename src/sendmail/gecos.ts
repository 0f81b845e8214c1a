/*
 * gecos - the invoking user's full name, the sender full name Postfix's
 * sendmail records when -F is not given. Node has no getpwuid(), so this
 * reads /etc/passwd; the name is the GECOS field up to its first comma,
 * with "&" standing for the capitalised login name (BSD convention, as
 * Postfix does). Any problem reading the file just means no full name.
 */

import { readFileSync } from 'node:fs';

export function gecosName(uid: number, passwd = '/etc/passwd'): string | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'latin1');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[2] !== String(uid)) continue;
    const login = f[0] as string;
    const name = (f[4] as string).split(',')[0] as string;
    return name.replaceAll('&', login.charAt(0).toUpperCase() + login.slice(1));
  }
  return undefined;
}
