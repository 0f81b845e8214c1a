/*
 * A whole Postroom instance for integration tests: configuration, queue,
 * data directory, log and mailboxes under one temporary directory, started
 * with `postfix -c <dir>/etc start` and stopped (every process gone, the
 * directory removed) when the test ends.
 *
 * Run as root (CI), the services run as mail_owner = postfix and local
 * delivery runs as each recipient (prtest1, prtest2 from .ci/run). With
 * `asUser`, every process runs as that ordinary account: the instance's
 * commands are started with its uid/gid, as that user would type them.
 * Mailboxes: mbox files in `spool` (mail_spool_directory), virtual
 * mailboxes under `vmail`, .forward files in `forward` (forward_path).
 */
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { postroomMasterCf } from '../../src/demo/config.js';
import { type Account, getpwnam, isRoot } from '../../src/master/master_user.js';
import { ROOT, type Run } from './index.js';

export const BIN = (name: string): string => join(ROOT, 'bin', name);

/** Postroom's services, with wakeups short enough for tests. */
export const MASTER_CF = postroomMasterCf({ pickup: 1, qmgr: 1 });

export interface InstanceOptions {
  /** main.cf settings added to (or replacing) the instance's own; a function gets the instance directory. */
  readonly mainCf?: Record<string, string> | ((dir: string) => Record<string, string>);
  /** A whole master.cf instead of MASTER_CF. */
  readonly masterCf?: string;
  /** Run everything as this ordinary account (e.g. "prtestmta"). */
  readonly asUser?: string;
  /** The aliases(5) file (built with postalias before start); a function gets the instance directory. */
  readonly aliases?: string | ((dir: string) => string);
  /** Files to write in etc/ before start (tables, checks); name -> content. */
  readonly etcFiles?: Record<string, string>;
  /** Leave the instance stopped (call start() yourself). */
  readonly noStart?: boolean;
}

export interface MailMessage {
  /** [name, value] in order, values unfolded as Python's compat32 gives them. */
  readonly headers: [string, string][];
  readonly body: string;
  /** The mbox From_ line (mbox only). */
  readonly fromLine?: string;
  /** The file's name (Maildir only). */
  readonly file?: string;
  /** MIME structure (see read_mail.py). */
  readonly mime: MimePart;
}

export interface MimePart {
  readonly type: string;
  readonly params: Record<string, string>;
  readonly headers: [string, string][];
  readonly defects: string[];
  readonly parts?: MimePart[];
  readonly message?: MimePart;
  /** message/delivery-status: the per-message block, then one per recipient. */
  readonly blocks?: [string, string][][];
  readonly text?: string;
}

export interface Instance {
  readonly dir: string;
  readonly etc: string;
  readonly queue: string;
  readonly maillog: string;
  /** mail_spool_directory (mbox per user). */
  readonly spool: string;
  /** virtual_mailbox_base. */
  readonly vmail: string;
  /** forward_path is <forward>/$user. */
  readonly forward: string;
  /** A directory anyone may write (mode 1777), for /file and |command destinations. */
  readonly files: string;
  readonly myhostname: string;
  /** Who owns the mailboxes of ordinary deliveries: the instance user, or null as root. */
  readonly runAs: Account | null;
  /** Run bin/<name> with MAIL_CONFIG (as the instance user unless `uid` says). */
  cmd(name: string, args: readonly string[], input?: string, as?: Account): Run;
  sendmail(args: readonly string[], message: string, as?: Account): Run;
  /** sendmail that must succeed (exit 0); its stderr is in the error otherwise. */
  mail(args: readonly string[], message: string, as?: Account): void;
  postfix(args: readonly string[]): Run;
  start(): void;
  stop(): void;
  /** SIGKILL master and every process of its group (a crash of the whole system). */
  abort(): void;
  masterPid(): number | null;
  log(): string;
  /** The log lines about one queue ID ("<program>[pid]: <ID>: ..."), without the time stamp and host. */
  logFor(id: string): string[];
  waitForLog(re: RegExp, ms?: number): Promise<string>;
  /** Wait until `ok()` holds; on timeout the error names `what` and shows the log. */
  until(what: string, ok: () => boolean, ms?: number): Promise<void>;
  /** Wait until maildrop, incoming, active and deferred are empty. */
  waitForQueueEmpty(ms?: number): Promise<void>;
  /** Queue IDs in one queue directory (hashed subdirectories included). */
  queueIds(queue: string): string[];
  readMbox(path: string): MailMessage[];
  readMaildir(path: string): MailMessage[];
  /** Make a file or directory belong to `who` (as root only). */
  own(path: string, who: Account): void;
}

const PY = join(ROOT, 'test/integration/read_mail.py');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** An account from .ci/run; missing: skip the test (fail under CI=true). */
export function account(t: TestContext, name: string): Account | null {
  const a = getpwnam(name);
  if (a) return a;
  if (process.env.CI === 'true') throw new Error(`the ${name} account is missing (.ci/run makes it)`);
  t.skip(`needs the ${name} account`);
  return null;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`;
  } catch {
    return String(pid);
  }
}

/** Process IDs whose process group is `pgid` (from /proc). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(e));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/**
 * Start a whole instance. Returns null when the test was skipped (asUser
 * without that account).
 */
export function startInstance(t: TestContext, opts: InstanceOptions = {}): Instance | null {
  let runAs: Account | null = null;
  if (opts.asUser !== undefined) {
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('CI runs the tests as root');
      t.skip('needs root to run as another user');
      return null;
    }
    runAs = account(t, opts.asUser);
    if (!runAs) return null;
  }
  const root = isRoot() && runAs === null;
  if (root && !getpwnam('postfix')) {
    if (process.env.CI === 'true') throw new Error('the postfix account is missing');
    t.skip('needs the postfix account (mail_owner)');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'postroom-inst-'));
  // As root, services running as mail_owner and deliveries as users must reach it.
  chmodSync(dir, 0o755);
  const etc = join(dir, 'etc');
  const queue = join(dir, 'queue');
  const maillog = join(dir, 'maillog');
  const spool = join(dir, 'mail');
  const vmail = join(dir, 'vmail');
  const forward = join(dir, 'forward');
  const files = join(dir, 'files');
  for (const d of [etc, spool, vmail, forward, files]) mkdirSync(d);
  chmodSync(spool, 0o1777);
  chmodSync(files, 0o1777);
  chmodSync(forward, 0o755);
  const owner = runAs ?? (root ? getpwnam('postfix')! : null);
  const me = runAs ?? { name: process.env.USER ?? 'root', uid: process.getuid!(), gid: process.getgid!() };
  const vOwner = owner ?? me;
  chmodSync(vmail, 0o755);
  if (vOwner.uid !== process.getuid!()) chownSync(vmail, vOwner.uid, vOwner.gid);
  const myhostname = 'host.example.com';
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: queue,
    data_directory: join(dir, 'data'),
    mail_owner: owner?.name ?? me.name,
    default_privs: runAs?.name ?? 'nobody',
    myhostname,
    mydomain: 'example.com',
    myorigin: '$myhostname',
    mydestination: '$myhostname, localhost',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    maillog_file: maillog,
    maillog_file_prefixes: dir,
    alias_maps: `hash:${etc}/aliases`,
    alias_database: `hash:${etc}/aliases`,
    mail_spool_directory: spool,
    forward_path: `${forward}/$user`,
    virtual_mailbox_base: vmail,
    virtual_minimum_uid: '1',
    virtual_uid_maps: `static:${vOwner.uid}`,
    virtual_gid_maps: `static:${vOwner.gid}`,
    queue_run_delay: '1s',
    minimal_backoff_time: '1s',
    maximal_backoff_time: '2s',
    service_throttle_time: '1s',
    ...(typeof opts.mainCf === 'function' ? opts.mainCf(dir) : opts.mainCf),
  };
  writeFileSync(
    join(etc, 'main.cf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join(''),
  );
  writeFileSync(join(etc, 'master.cf'), opts.masterCf ?? MASTER_CF);
  for (const [name, text] of Object.entries(opts.etcFiles ?? {})) writeFileSync(join(etc, name), text);
  const aliases = typeof opts.aliases === 'function' ? opts.aliases(dir) : opts.aliases;
  writeFileSync(join(etc, 'aliases'), aliases ?? 'postmaster: root\n');
  if (runAs) for (const p of [dir, etc, spool, forward]) chownSync(p, runAs.uid, runAs.gid);
  if (runAs) for (const f of readdirSync(etc)) chownSync(join(etc, f), runAs.uid, runAs.gid);

  const env = { ...process.env, MAIL_CONFIG: etc };
  const spawnAs = (cmd: string, args: readonly string[], input: string, as: Account | null): Run => {
    const o: SpawnSyncOptions = { input, env, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 };
    const who = as ?? runAs;
    if (who && who.uid !== process.getuid!()) Object.assign(o, { uid: who.uid, gid: who.gid });
    const r = spawnSync(cmd, args, o);
    if (r.error) throw r.error;
    return { stdout: String(r.stdout), stderr: String(r.stderr), status: r.status };
  };
  const cmd = (name: string, args: readonly string[], input = '', as?: Account): Run =>
    spawnAs(BIN(name), args, input, as ?? null);

  const built = cmd('postalias', [join(etc, 'aliases')]);
  if (built.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postalias: ${built.stderr}`);
  }

  const pidFile = join(queue, 'pid/master.pid');
  const masterPid = (): number | null => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return pid > 0 && alive(pid) ? pid : null;
    } catch {
      return null;
    }
  };
  // Every master ever started, so that t.after kills all of them and their groups.
  const masters = new Set<number>();
  const log = (): string => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');

  const inst: Instance = {
    dir,
    etc,
    queue,
    maillog,
    spool,
    vmail,
    forward,
    files,
    myhostname,
    runAs,
    cmd,
    sendmail: (args, message, as) => cmd('sendmail', args, message, as),
    mail(args, message, as) {
      const r = cmd('sendmail', args, message, as);
      if (r.status !== 0) throw new Error(`sendmail ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    },
    postfix: (args) => cmd('postfix', ['-c', etc, ...args]),
    start() {
      const r = inst.postfix(['start']);
      const pid = masterPid();
      if (r.status !== 0 || pid === null)
        throw new Error(`postfix start: status ${r.status} ${r.stderr}\n${log()}`);
      masters.add(pid);
    },
    stop() {
      const pid = masterPid();
      inst.postfix(['stop']);
      if (pid !== null) waitGone(pid, 10_000);
    },
    abort() {
      const pid = masterPid();
      if (pid !== null) {
        killGroup(pid);
        waitGone(pid, 5_000);
      }
    },
    masterPid,
    log,
    logFor: (id) =>
      log()
        .split('\n')
        .filter((l) => l.includes(`]: ${id}: `))
        .map((l) => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ /, '')),
    async waitForLog(re, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const text = log();
        if (re.test(text)) return text;
        if (Date.now() > end) throw new Error(`log never matched ${re}:\n${text}`);
        await sleep(50);
      }
    },
    async until(what, ok, ms = 30_000) {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`);
        await sleep(50);
      }
    },
    async waitForQueueEmpty(ms = 30_000) {
      const end = Date.now() + ms;
      const queues = ['maildrop', 'incoming', 'active', 'deferred'];
      for (;;) {
        const left = queues.flatMap((q) => inst.queueIds(q).map((id) => `${q}/${id}`));
        if (left.length === 0) return;
        if (Date.now() > end) throw new Error(`queue not empty after ${ms} ms: ${left.join(' ')}\n${log()}`);
        await sleep(50);
      }
    },
    queueIds(q) {
      const out: string[] = [];
      const walk = (d: string): void => {
        if (!existsSync(d)) return;
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          // A writer's temporary file (t<pid>.<n>.<hex>) is not a queue file yet; one a crash left is no mail.
          else if (!e.name.startsWith('.') && !/^t\d+\./.test(e.name)) out.push(e.name);
        }
      };
      walk(join(queue, q));
      return out.sort();
    },
    readMbox: (path) => readMail('mbox', path),
    readMaildir: (path) => readMail('maildir', path),
    own(path, who) {
      if (isRoot()) chownSync(path, who.uid, who.gid);
    },
  };

  t.after(() => {
    const pid = masterPid();
    if (pid !== null) {
      masters.add(pid);
      const stop = inst.postfix(['stop']);
      if (stop.status !== 0) t.diagnostic(`postfix stop: exit ${stop.status}: ${stop.stderr}`);
      waitGone(pid, 8_000);
      // A clean stop leaves nothing behind: say what it left before killing it.
      const left = groupMembers(pid);
      if (left.length > 0)
        t.diagnostic(`postfix stop left ${left.length} process(es): ${left.map(cmdline).join(' | ')}`);
    }
    // Every master this test started (crash tests start several), and what each started.
    for (const m of masters) killGroup(m);
    const end = Date.now() + 5_000;
    let left = [...masters].flatMap(groupMembers);
    while (left.length > 0 && Date.now() < end) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      left = [...masters].flatMap(groupMembers);
    }
    // POSTROOM_KEEP_INSTANCE=1 keeps the directory for a post-mortem.
    if (process.env.POSTROOM_KEEP_INSTANCE) t.diagnostic(`instance kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    if (left.length > 0)
      throw new Error(`processes of the instance still running: ${left.map(cmdline).join(' | ')}`);
  });
  if (!opts.noStart) inst.start();
  return inst;
}

function waitGone(pid: number, ms: number): void {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

function readMail(kind: 'mbox' | 'maildir', path: string): MailMessage[] {
  if (!existsSync(path)) return [];
  const r = spawnSync('python3', [PY, kind, path], {
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`read_mail.py ${kind} ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout) as MailMessage[];
}

/** A header's value (first occurrence, case-insensitive). */
export function header(m: { headers: [string, string][] }, name: string): string | undefined {
  return m.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}
