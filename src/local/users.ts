/*
 * users - the passwd entries local(8) delivers for (getpwnam/getpwuid)
 *
 * Node has no getpwnam(3). getent(1) asks the system's name service
 * switch, so LDAP and NIS users are found as Postfix finds them; where
 * getent is missing, /etc/passwd is read. Answers are cached for a short
 * while (a local process lives for minutes, users change rarely).
 * lookupUser() resolves to null for "no such user" and throws only when
 * the lookup itself failed (then delivery is deferred, not bounced).
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface UserAttr {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

const TTL_MS = 60_000;
/** Answers, and lookups under way: deliveries at once to one user share one getent. */
const cache = new Map<string, { at: number; user: Promise<UserAttr | null> }>();

function parseLine(line: string): UserAttr | null {
  const f = line.split(':');
  if (f.length < 7) return null;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) return null;
  return { name: f[0] ?? '', uid, gid, home: f[5] ?? '', shell: f[6] ?? '' };
}

function getent(key: string): Promise<UserAttr | null> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', key], { timeout: 10_000 }, (err, stdout) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (err && code === 'ENOENT') {
        passwdFile(key).then(resolve, reject);
        return;
      }
      // getent exits 2 for "not found"; anything else is a lookup failure.
      if (err) {
        if ((err as { code?: unknown }).code === 2) resolve(null);
        else reject(new Error('user lookup error'));
        return;
      }
      resolve(parseLine(stdout.split('\n')[0] ?? ''));
    });
  });
}

async function passwdFile(key: string): Promise<UserAttr | null> {
  const text = await readFile('/etc/passwd', 'utf8');
  for (const line of text.split('\n')) {
    const u = parseLine(line);
    if (u && (u.name === key || String(u.uid) === key)) return u;
  }
  return null;
}

function cached(key: string): Promise<UserAttr | null> {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.user;
  const entry = { at: now, user: getent(key) };
  cache.set(key, entry);
  // A failed lookup is not kept: the next delivery asks again.
  entry.user.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return entry.user;
}

/** The user called `name`, or null. Names with characters no login name has are never looked up. */
export function lookupUser(name: string): Promise<UserAttr | null> {
  if (name === '' || /[\s:/\0]/u.test(name) || /^\d+$/u.test(name)) return Promise.resolve(null);
  return cached(name);
}

/** The user with this uid, or null. */
export function lookupUid(uid: number): Promise<UserAttr | null> {
  return cached(String(uid));
}
