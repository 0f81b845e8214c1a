/*
 * NAME
 *	master - Postroom master process
 * SYNOPSIS
 *	master [-Ddistvw] [-c config_dir] [-e exit_time]
 * DESCRIPTION
 *	Runs the services of master.cf as Postfix's master(8) does: opens
 *	their listeners, starts a service's process on demand and its wakeup
 *	triggers, restarts processes that die (throttling a service whose
 *	process fails at start-up), and logs to $maillog_file. It never
 *	detaches itself: "postfix start" does that.
 *
 *	SIGHUP: reload main.cf and master.cf ("reload -- version ...");
 *	running processes finish their work and exit, listeners of removed
 *	services close, new ones open. SIGTERM: stop; processes finish the
 *	work in hand (killed after a few seconds), then master exits 0.
 *	SIGINT, SIGQUIT: abort; every process is killed at once.
 *
 *	-c dir	configuration directory (also MAIL_CONFIG).
 *	-e secs	stop after that many seconds.
 *	-t	exit 0 when no master runs for this configuration, 1 when one does.
 *	-v	verbose; passed on to the services.
 *	-w	started by "postfix start": report start-up success or the fatal
 *		error over the IPC channel, then carry on alone.
 *	-D, -d, -i, -s	accepted for compatibility (Postroom's master runs in
 *		the foreground of whoever started it).
 * FILES
 *	$data_directory/master.lock, $queue_directory/pid/master.pid
 * SEE ALSO
 *	docs/master.md, docs/daemons.md
 */
import { chownSync } from 'node:fs';
import { loadMainConfig, type MainConfig } from '../global/config.js';
import { initDaemonLogging, logHostName, maillogSink } from '../global/maillog.js';
import { FatalError, msg } from '../global/msg.js';
import { getopt } from '../util/getopt.js';
import { readMasterCf } from './master_cf.js';
import {
  missingCommandText,
  unimplementedParams,
  unimplementedServiceParams,
  unimplementedText,
} from './master_check.js';
import { acquireMasterLock, lockPaths, releaseMasterLock, runningMaster } from './master_lock.js';
import { MasterService, type ProcEnv } from './master_proc.js';
import { prepareQueue, removeStaleTempFiles } from './master_queue.js';
import { buildServices, type ServiceDef } from './master_services.js';
import { isRoot, type Owners, resolveOwners } from './master_user.js';

const VERSION = '3.7.11';
/** How long "stop" lets processes finish before they are killed. */
const STOP_GRACE_MS = 4000;

msg.setProgram('postfix/master');
const parsed = getopt(process.argv.slice(2), 'c:De:ditvws');
if (parsed.kind === 'error') {
  msg.fatal(
    `${parsed.message}\nusage: master [-c config_dir] [-D (debug)] [-d (stay in foreground)] [-e exit_time] [-t (test)] [-v] [-w]`,
  );
}
let configDirOpt: string | undefined;
let exitAfter = 0;
let testOnly = false;
let verbose = 0;
for (const o of parsed.opts) {
  if (o.opt === 'c') configDirOpt = o.arg;
  else if (o.opt === 'e') exitAfter = Number.parseInt(o.arg ?? '0', 10);
  else if (o.opt === 't') testOnly = true;
  else if (o.opt === 'v') verbose++;
}
msg.setVerbose(verbose);
const reporting = process.argv.includes('-w') && typeof process.send === 'function';

if (testOnly) {
  const cfg = loadMainConfig({ configDir: configDirOpt });
  process.exit(runningMaster(cfg) === null ? 0 : 1);
}

class Master {
  readonly services = new Map<string, MasterService>();
  #stopping = false;

  constructor(
    public cfg: MainConfig,
    public env: ProcEnv,
  ) {}

  async start(defs: ServiceDef[]): Promise<void> {
    for (const def of defs.filter((d) => d.run === 'always')) this.#add(def).start();
    for (const def of defs.filter((d) => d.run === 'demand')) {
      const svc = this.#add(def);
      if (def.program.kind !== 'missing' && !def.problem) await svc.listen();
    }
    for (const svc of this.services.values()) svc.startWakeups();
  }

  #add(def: ServiceDef): MasterService {
    const svc = new MasterService(def, this.env);
    this.services.set(def.key, svc);
    return svc;
  }

  async reload(): Promise<void> {
    let cfg: MainConfig;
    let defs: ServiceDef[];
    msg.setExitOnFatal(false);
    try {
      cfg = loadMainConfig({ configDir: this.cfg.configDirectory });
      const owners = checkOwners(cfg);
      defs = buildServices(
        cfg,
        readMasterCf(cfg.configDirectory, (w) => msg.warn(w)),
        verbose,
      );
      this.env = procEnv(cfg, owners);
    } catch (e) {
      msg.warn(
        `reload failed, keeping the running configuration: ${e instanceof Error ? e.message : String(e)}`,
      );
      return;
    } finally {
      msg.setExitOnFatal(true);
    }
    this.cfg = cfg;
    msg.info(`reload -- version ${VERSION}, configuration ${cfg.configDirectory}`);
    reportUnimplemented(cfg, defs);
    const keys = new Set(defs.map((d) => d.key));
    for (const [key, svc] of this.services) {
      if (!keys.has(key)) {
        svc.close();
        this.services.delete(key);
      }
    }
    for (const def of defs) {
      const old = this.services.get(def.key);
      if (old && JSON.stringify(old.def.listen) === JSON.stringify(def.listen) && old.def.run === def.run) {
        old.env = this.env;
        old.update(def);
        continue;
      }
      old?.close();
      const svc = this.#add(def);
      if (def.run === 'always') svc.start();
      else if (def.run === 'demand' && def.program.kind !== 'missing' && !def.problem) {
        try {
          await svc.listen();
        } catch (e) {
          msg.warn(`${def.key}: ${(e as Error).message} -- service disabled`);
          svc.close();
        }
      }
      svc.startWakeups();
    }
  }

  /** Graceful (SIGTERM) or abort (SIGINT, SIGQUIT). */
  async stop(signal: number, abort: boolean): Promise<never> {
    if (!this.#stopping) {
      this.#stopping = true;
      if (signal > 0) msg.info(`terminating on signal ${signal}`);
      const loggers = [...this.services.values()].filter((s) => s.def.run === 'always');
      const others = [...this.services.values()].filter((s) => s.def.run !== 'always');
      for (const s of others) {
        s.close();
        if (abort) s.kill('SIGKILL');
      }
      await waitForExit(
        others.flatMap((s) => s.children()),
        abort ? 0 : STOP_GRACE_MS,
      );
      for (const s of loggers) s.close();
      await waitForExit(
        loggers.flatMap((s) => s.children()),
        1000,
      );
      releaseMasterLock(lockPaths(this.cfg));
    }
    process.exit(0);
  }
}

/** Wait until every process has exited; kill those left after `graceMs`. */
function waitForExit(children: import('node:child_process').ChildProcess[], graceMs: number): Promise<void> {
  const live = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (live.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = live.length;
    const timer = setTimeout(() => {
      for (const c of live) c.kill('SIGKILL');
    }, graceMs);
    for (const c of live)
      c.once('exit', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
  });
}

function checkOwners(cfg: MainConfig): Owners {
  const owners = resolveOwners(cfg);
  if ('error' in owners) return msg.fatal(owners.error);
  return owners;
}

function procEnv(cfg: MainConfig, owners: Owners): ProcEnv {
  return {
    configDir: cfg.configDirectory,
    mailOwner: owners.mailOwner ? { uid: owners.mailOwner.uid, gid: owners.mailOwner.gid } : null,
    throttleMs: cfg.time('service_throttle_time', 's') * 1000,
  };
}

function reportUnimplemented(cfg: MainConfig, defs: readonly ServiceDef[]): void {
  for (const name of unimplementedParams(cfg)) msg.warn(unimplementedText(name));
  for (const text of unimplementedServiceParams(cfg, defs)) msg.warn(text);
  for (const def of defs) if (def.program.kind === 'missing') msg.warn(missingCommandText(def));
  for (const def of defs) if (def.problem) msg.warn(`${def.key}: ${def.problem} -- service disabled`);
}

/** Start-up: everything that can fail does so before "daemon started". */
async function main(): Promise<Master> {
  const cfg = loadMainConfig({ configDir: configDirOpt });
  process.env.MAIL_CONFIG = cfg.configDirectory;
  const owners = checkOwners(cfg);
  const writer = initDaemonLogging(cfg, 'master');
  const base = maillogSink({ writer, host: logHostName(cfg.get('myhostname')) });
  msg.setSink((level, line) => {
    base(level, line);
    if (reporting && (level === 'fatal' || level === 'panic')) startupErrors.push(line);
  });
  // Unprivileged services append to the log file themselves.
  if (isRoot() && owners.mailOwner && writer.path.startsWith('/') && !writer.path.startsWith('/dev/'))
    chownSync(writer.path, owners.mailOwner.uid, owners.mailOwner.gid);
  await prepareQueue(cfg, owners);
  const paths = lockPaths(cfg);
  const lock = acquireMasterLock(paths);
  if (lock.kind === 'running') msg.fatal('the Postfix mail system is already running');
  if (lock.kind === 'error') msg.fatal(lock.text);
  // As in Postfix, data_directory and its lock belong to mail_owner ("postfix check" says so).
  if (owners.mailOwner) chownSync(paths.lock, owners.mailOwner.uid, owners.mailOwner.gid);
  removeStaleTempFiles(cfg);
  const master = new Master(cfg, procEnv(cfg, owners));
  try {
    const defs = buildServices(
      cfg,
      readMasterCf(cfg.configDirectory, (w) => msg.warn(w)),
      verbose,
    );
    reportUnimplemented(cfg, defs);
    await master.start(defs);
  } catch (e) {
    for (const s of master.services.values()) s.close();
    releaseMasterLock(paths);
    throw e;
  }
  msg.info(`daemon started -- version ${VERSION}, configuration ${cfg.configDirectory}`);
  return master;
}

const startupErrors: string[] = [];
msg.setExitOnFatal(false);
let master: Master;
try {
  master = await main();
} catch (e) {
  if (!(e instanceof FatalError)) {
    try {
      msg.fatal(e instanceof Error ? e.message : String(e));
    } catch {
      // Logged.
    }
  }
  if (reporting) process.send?.({ type: 'failed', lines: startupErrors }, () => process.exit(1));
  else process.exit(1);
  await new Promise(() => {});
  throw e;
}
msg.setExitOnFatal(true);
process.on('uncaughtException', (e) => {
  msg.fatal(`master: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});
process.on('SIGHUP', () => void master.reload());
process.on('SIGTERM', () => void master.stop(15, false));
process.on('SIGINT', () => void master.stop(2, true));
process.on('SIGQUIT', () => void master.stop(3, true));
if (exitAfter > 0) setTimeout(() => void master.stop(0, false), exitAfter * 1000);
if (reporting) {
  process.send?.({ type: 'started', pid: process.pid }, () => process.disconnect());
}
