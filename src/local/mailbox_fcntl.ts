/*
 * mailbox_fcntl - the "fcntl" and "flock" mailbox locks
 *
 * Node cannot call fcntl(F_SETLK) nor flock(2). Where the build compiled
 * the tiny addon src/local/native/lock.c (dist/native/lock.node),
 * fdLock() takes the lock in-process on the descriptor the delivery
 * writes through: no process, no fork, a system call per attempt. The
 * fcntl lock is then an open file description lock, which conflicts with
 * other programs' fcntl/lockf locks and also with a concurrent delivery
 * of this same process. The kernel drops it when the descriptor is
 * closed, so a crash never leaves it behind either.
 *
 * Without the addon (no C compiler at build time), a small helper process (perl, part of
 * every Debian/Ubuntu base system) opens the mailbox, takes the POSIX
 * write lock on the whole file, reports the device and inode it locked,
 * and holds the lock until we close its stdin; it dies with us, so a
 * crash never leaves the lock behind. The lock excludes every other fcntl
 * user (Postfix's local, Dovecot, mutt) while we append. Retries follow
 * deliver_lock_attempts and deliver_lock_delay, as Postfix's do, and a
 * busy mailbox is a temporary error "unable to lock for exclusive access:
 * Resource temporarily unavailable".
 *
 * The same helper takes the "flock" lock (flock(2), LOCK_EX|LOCK_NB).
 * The struct flock layout packed here is Linux's on 64-bit machines; on
 * anything else, or without perl, fcntlLockAvailable() is false and the
 * caller relies on the dot lock (with a warning).
 */

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { arch, constants, platform } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockRetry } from '../global/dotlock.js';
import { MailboxError } from './mailbox_copy.js';

const HELPER = `
use strict; use Fcntl;
my ($path, $tries, $delay, $style) = @ARGV;
$| = 1;
open(my $fh, '>>', $path) or do { print "err OPEN $!\\n"; exit 1 };
my $lock = pack('s s x4 q q i x4', F_WRLCK, 0, 0, 0, 0);
for (my $n = 1; ; $n++) {
  my $ok = $style eq 'flock' ? flock($fh, 6) : fcntl($fh, F_SETLK, $lock);
  if ($ok) { my @st = stat($fh); print "locked $st[0] $st[1]\\n"; last }
  my $busy = $!{EAGAIN} || $!{EACCES} || $!{EWOULDBLOCK};
  if ($n >= $tries || !$busy) { print "err ", ($busy ? "EAGAIN" : "LOCK"), " $!\\n"; exit 1 }
  select(undef, undef, undef, $delay);
}
my $eof = <STDIN>;
exit 0;
`;

/** dist/native/lock.node: each call returns 0 or an errno, never blocks. */
export interface LockAddon {
  lock(fd: number, style: 'fcntl' | 'flock'): number;
  unlock(fd: number, style: 'fcntl' | 'flock'): number;
  strerror(errno: number): string;
}

let addon: LockAddon | null | undefined;
let addonOff = false;

/** The lock addon, or undefined where it was not built (the perl helper then does the locking). */
export function lockAddon(): LockAddon | undefined {
  if (addonOff) return undefined;
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)('../../native/lock.node') as LockAddon;
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}

/** Tests: false makes this process lock through the perl helper, as without the addon. */
export function useLockAddon(on: boolean): void {
  addonOff = !on;
}

const BUSY = new Set([constants.errno.EAGAIN, constants.errno.EACCES, constants.errno.EWOULDBLOCK]);

/**
 * Lock the open mailbox `fd` (device `dev`, inode `ino`) with the addon,
 * retrying a busy lock as the helper does; the same MailboxError texts.
 */
export async function fdLock(
  lib: LockAddon,
  fd: number,
  file: { dev: number; ino: number },
  retry: LockRetry,
  style: 'fcntl' | 'flock',
): Promise<FcntlLock> {
  const tries = Math.max(1, retry.attempts);
  for (let n = 1; ; n++) {
    const err = lib.lock(fd, style);
    if (err === 0)
      return {
        dev: file.dev,
        ino: file.ino,
        held: true,
        release: async () => {
          lib.unlock(fd, style);
        },
      };
    const busy = BUSY.has(err);
    if (n >= tries || !busy)
      throw new MailboxError(
        busy ? '4.2.0' : '5.2.0',
        `unable to lock for exclusive access: ${lib.strerror(err)}`,
      );
    await sleep(retry.delay * 1000);
  }
}

let available: boolean | undefined;

export function fcntlLockAvailable(): boolean {
  if (available === undefined) {
    const linux64 = platform() === 'linux' && ['x64', 'arm64', 'ppc64', 's390x', 'riscv64'].includes(arch());
    available = linux64 && spawnSync('perl', ['-MFcntl', '-e', 'exit 0'], { stdio: 'ignore' }).status === 0;
  }
  return available;
}

export interface FcntlLock {
  /** Device and inode of the file the helper locked, to compare with ours. */
  readonly dev: number;
  readonly ino: number;
  /** False once the helper is gone, e.g. killed: the lock went with it. */
  readonly held: boolean;
  release(): Promise<void>;
}

/** Lock `path` (which must exist) for writing; MailboxError when it cannot be had. */
export function fcntlLock(
  path: string,
  retry: LockRetry,
  style: 'fcntl' | 'flock' = 'fcntl',
): Promise<FcntlLock> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'perl',
      ['-e', HELPER, path, String(Math.max(1, retry.attempts)), String(retry.delay), style],
      {
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
    child.stdin.on('error', () => undefined);
    let alive = true;
    const exited = new Promise<void>((done) =>
      child.once('exit', () => {
        alive = false;
        done();
      }),
    );
    let out = '';
    let settled = false;
    const fail = (err: MailboxError) => {
      if (settled) return;
      settled = true;
      child.kill();
      reject(err);
    };
    child.once('error', (e) =>
      fail(new MailboxError('4.2.0', `unable to lock for exclusive access: ${e.message}`)),
    );
    child.once('exit', () =>
      fail(new MailboxError('4.2.0', 'unable to lock for exclusive access: lock helper exited')),
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0 || settled) return;
      const line = out.slice(0, nl);
      const m = /^locked (\d+) (\d+)$/u.exec(line);
      if (m) {
        settled = true;
        resolve({
          dev: Number(m[1]),
          ino: Number(m[2]),
          get held() {
            return alive;
          },
          release: async () => {
            child.stdin.end();
            await exited;
          },
        });
        return;
      }
      const e = /^err (\S+) (.*)$/u.exec(line);
      if (e?.[1] === 'OPEN') fail(new MailboxError('5.2.0', `cannot open file ${path}: ${e[2]}`));
      else
        fail(
          new MailboxError(
            e?.[1] === 'EAGAIN' ? '4.2.0' : '5.2.0',
            `unable to lock for exclusive access: ${e?.[2] ?? line}`,
          ),
        );
    });
  });
}
