/*
 * master_user - the accounts master runs services as
 *
 * Node has no getpwnam()/getgrnam(), so these read /etc/passwd and
 * /etc/group (files only, as Postfix's own checks would see them on a
 * system without NSS modules). mailOwner() checks $mail_owner the way
 * Postfix does before anything starts, with Postfix's fatal wording.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

function readTable(file: string): string[][] {
  try {
    return readFileSync(file, 'latin1')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function getpwnam(name: string, passwd = '/etc/passwd'): Account | undefined {
  const f = readTable(passwd).find((r) => r.length >= 7 && r[0] === name);
  return f ? { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' } : undefined;
}

export function getpwuid(uid: number, passwd = '/etc/passwd'): Account | undefined {
  const f = readTable(passwd).find((r) => r.length >= 7 && r[2] === String(uid));
  return f ? { name: f[0]!, uid, gid: Number(f[3]), home: f[5] ?? '/' } : undefined;
}

export function getgrnam(name: string, group = '/etc/group'): number | undefined {
  const f = readTable(group).find((r) => r.length >= 3 && r[0] === name);
  return f ? Number(f[2]) : undefined;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Who the services and the queue belong to; null fields mean "whoever runs master". */
export interface Owners {
  /** uid/gid for unprivileged services and the queue (root only). */
  readonly mailOwner: Account | null;
  /** gid of $setgid_group (root only), for maildrop/ and public/. */
  readonly setgidGid: number | null;
}

/**
 * As root, $mail_owner must be an unprivileged account and $setgid_group
 * must exist; the text returned is Postfix's fatal message. As an
 * ordinary user everything runs as that user: nothing to check.
 */
export function resolveOwners(cfg: MainConfig): Owners | { error: string } {
  if (!isRoot()) return { mailOwner: null, setgidGid: null };
  const file = join(cfg.configDirectory, 'main.cf');
  const owner = cfg.get('mail_owner');
  const acct = getpwnam(owner);
  if (!acct) return { error: `file ${file}: parameter mail_owner: unknown user name value: ${owner}` };
  if (acct.uid === 0)
    return { error: `file ${file}: parameter mail_owner: user ${owner} has privileged user ID` };
  const group = cfg.get('setgid_group');
  const gid = getgrnam(group);
  if (gid === undefined)
    return { error: `file ${file}: parameter setgid_group: unknown group name: ${group}` };
  return { mailOwner: acct, setgidGid: gid };
}
