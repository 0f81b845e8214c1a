/*
 * instance - a throw-away mail system for the benchmarks: Postroom or Postfix
 *
 * Both systems get the same main.cf and the same master.cf (only the
 * services the job needs, none chrooted), under one temporary directory
 * each: configuration, queue, data directory, log, and a virtual mailbox
 * domain "bench.test" whose users u0..u<k> receive into
 * <dir>/vmail/uN/Maildir/ as uid/gid 65534: through virtual(8) (virtual
 * mailbox domain), or through local(8) (aliases naming a Maildir path,
 * delivered as default_privs). Both are what the two systems do
 * identically without touching real accounts or home directories.
 * Mode "mbox" instead aliases uN to system accounts without a login
 * (daemon, bin, ...: MBOX_ACCOUNTS) and local(8) appends to their mboxes
 * in <dir>/spool (mail_spool_directory, mode 1777), each delivery as
 * that account, with the default mailbox_delivery_lock (fcntl, dotlock).
 *
 * Postfix runs as a private instance: `postfix -c <dir>/conf start` as
 * root, with the support files (postfix-files, postfix-script, ...) copied
 * next to its main.cf. Root may name any configuration directory, so the
 * machine's /etc/postfix and any running instance are never touched.
 * Every process of an instance is started inside its own control group
 * (see cpu.ts), which both measures it and lets stop() kill what is left,
 * pid by pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postroomMasterCf } from '../src/demo/config.js';
import { CpuGroup, procStat, treeCpu } from './cpu.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const POSTFIX_BIN = '/usr/sbin/postfix';
export const POSTFIX_SENDMAIL = '/usr/sbin/sendmail';
const POSTFIX_SUPPORT = [
  'postfix-files',
  'postfix-files.d',
  'postfix-script',
  'post-install',
  'dynamicmaps.cf',
  'dynamicmaps.cf.d',
  'makedefs.out',
];
const MAILBOX_UID = 65534;

export type SystemName = 'postroom' | 'postfix';

export const MASTER_CF = postroomMasterCf();

/** How mail reaches the mailboxes: virtual(8), local(8) aliases to a Maildir path, or local(8) to spool mboxes. */
export type MailboxMode = 'virtual' | 'local' | 'mbox';

/** Accounts that receive the mbox mode's mail: system accounts nobody logs in as, most of them present everywhere. */
const MBOX_ACCOUNTS = [
  'daemon',
  'bin',
  'sys',
  'games',
  'man',
  'lp',
  'news',
  'uucp',
  'proxy',
  'backup',
  'list',
  'irc',
];

/** The mbox accounts that exist here, one per bench user (wrapping round when there are more users). */
function mboxAccounts(users: number): string[] {
  const known = new Set(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':')[0]),
  );
  const have = MBOX_ACCOUNTS.filter((a) => known.has(a));
  if (have.length === 0) throw new Error('no system account to deliver mbox mail to');
  return Array.from({ length: users }, (_, i) => have[i % have.length] as string);
}

function mainCf(dir: string, users: number, mode: MailboxMode): string {
  const common = `queue_directory = ${dir}/q
data_directory = ${dir}/data
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_database =
local_recipient_maps =
compatibility_level = 3.6
`;
  const each = (f: (i: number) => string) => Array.from({ length: users }, (_, i) => f(i)).join(', ');
  if (mode === 'mbox')
    return `${common}mydestination = $myhostname, localhost, bench.test
mail_spool_directory = ${dir}/spool
alias_maps = inline:{ ${mboxAccounts(users)
      .map((a, i) => `u${i}=${a}`)
      .join(', ')} }
`;
  if (mode === 'local')
    // Alias deliveries to a file run as default_privs (nobody), the mailboxes' owner.
    return `${common}mydestination = $myhostname, localhost, bench.test
alias_maps = inline:{ ${each((i) => `u${i}=${dir}/vmail/u${i}/Maildir/`)} }
`;
  return `${common}mydestination = $myhostname, localhost
alias_maps =
virtual_mailbox_domains = bench.test
virtual_mailbox_base = ${dir}/vmail
virtual_mailbox_maps = inline:{ ${each((i) => `u${i}@bench.test=u${i}/Maildir/`)} }
virtual_uid_maps = static:${MAILBOX_UID}
virtual_gid_maps = static:${MAILBOX_UID}
`;
}

export interface Instance {
  readonly system: SystemName;
  readonly dir: string;
  readonly conf: string;
  readonly vmail: string;
  readonly users: number;
  /** Mode "mbox": the mailbox files that receive the mail; otherwise empty. */
  readonly mboxes: readonly string[];
  /** The sendmail command and the arguments before the recipients. */
  readonly sendmail: readonly string[];
  /** CPU seconds used by the instance's processes so far. */
  cpu(): number;
  /** How CPU is measured: "cgroup" or "/proc tree". */
  readonly cpuMethod: string;
  /** CPU seconds by program of the processes alive now (cgroup only). */
  breakdown(): Map<string, number>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function postfixInstalled(): boolean {
  return existsSync(POSTFIX_BIN) && existsSync(POSTFIX_SENDMAIL);
}

function run(argv: readonly string[], what: string): Promise<void> {
  return new Promise((res, rej) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', rej);
    child.on('exit', (code) =>
      code === 0 ? res() : rej(new Error(`${what} failed (${code}): ${err.trim()}`)),
    );
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Make and start an instance of `system` with `users` mailboxes. */
export async function startInstance(system: SystemName, users: number, mode: MailboxMode): Promise<Instance> {
  const inst = makeInstance(system, users, mode);
  await inst.start();
  return inst;
}

/** Make an instance of `system` with `users` mailboxes; start() starts it. */
export function makeInstance(system: SystemName, users: number, mode: MailboxMode): Instance {
  const dir = mkdtempSync(join(tmpdir(), `bench-${system}-`));
  // Unprivileged daemons (mail_owner) and the mailbox owner must reach inside.
  chmodSync(dir, 0o755);
  const conf = join(dir, 'conf');
  const vmail = join(dir, 'vmail');
  for (const d of [conf, join(dir, 'data'), join(dir, 'q'), vmail]) mkdirSync(d);
  const root = process.getuid?.() === 0;
  if (mode === 'mbox') {
    mkdirSync(join(dir, 'spool'));
    chmodSync(join(dir, 'spool'), 0o1777);
  }
  if (root) {
    chownSync(vmail, MAILBOX_UID, MAILBOX_UID);
    const pf = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
    if (pf.status === 0) chownSync(join(dir, 'data'), Number(pf.stdout.trim()), -1);
  }
  let main = mainCf(dir, users, mode);
  let postfixCmd: [string, ...string[]];
  let sendmail: string[];
  if (system === 'postfix') {
    for (const f of POSTFIX_SUPPORT)
      if (existsSync(join('/etc/postfix', f)))
        cpSync(join('/etc/postfix', f), join(conf, f), { recursive: true });
    postfixCmd = [POSTFIX_BIN, '-c', conf];
    sendmail = [POSTFIX_SENDMAIL, '-C', conf];
  } else {
    main += `daemon_directory = ${ROOT}/dist/src\n`;
    postfixCmd = [join(ROOT, 'bin/postfix'), '-c', conf];
    sendmail = [join(ROOT, 'bin/sendmail'), '-C', conf];
  }
  writeFileSync(join(conf, 'main.cf'), main);
  writeFileSync(join(conf, 'master.cf'), MASTER_CF);
  const control = (what: string): [string, ...string[]] => [...postfixCmd, what];
  // The queue exists before the first start, so sendmail works while the system is down.
  const check = control('check');
  spawnSync(check[0], check.slice(1), { stdio: 'ignore', timeout: 30_000 });

  const group = CpuGroup.create(`postroom-bench-${system}-${process.pid}`);
  const pidFile = join(dir, 'q/pid/master.pid');
  let masterPid = 0;
  let stopped = false;
  return {
    system,
    dir,
    conf,
    vmail,
    users,
    mboxes: mode === 'mbox' ? [...new Set(mboxAccounts(users))].map((a) => join(dir, 'spool', a)) : [],
    sendmail,
    cpuMethod: group ? 'cgroup' : '/proc tree',
    cpu: () => (group ? group.seconds() : masterPid ? treeCpu(masterPid) : 0),
    breakdown: () => breakdown(group?.pids() ?? []),
    async start() {
      const [cmd, ...args] = control('start');
      try {
        await run(group ? group.wrap(cmd, args) : [cmd, ...args], `${system} start`);
        await waitFor(() => existsSync(pidFile), 10_000, `${pidFile}`);
      } catch (e) {
        const log = existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '';
        await this.stop();
        throw new Error(`${(e as Error).message}\n${log}`);
      }
      masterPid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const [c, ...a] = control('stop');
      spawnSync(c, a, { stdio: 'ignore', timeout: 20_000 });
      if (group) await group.destroy();
      else if (masterPid) {
        try {
          process.kill(masterPid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds of the living processes by program, plus what they reaped ("exited"). */
function breakdown(pids: readonly number[]): Map<string, number> {
  const by = new Map<string, number>();
  const add = (k: string, v: number) => by.set(k, (by.get(k) ?? 0) + v);
  for (const pid of pids) {
    const f = procStat(pid);
    if (!f) continue;
    let label = f.comm;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      const js = argv.find((a) => a.endsWith('.js'));
      if (js) label = js.split('/').slice(-2).join('/');
    } catch {
      // Gone meanwhile: its command name will do.
    }
    add(label, f.self);
    if (f.children > 0) add('exited (reaped)', f.children);
  }
  return by;
}
