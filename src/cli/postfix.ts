/*
 * NAME
 *	postfix - Postroom control program
 * SYNOPSIS
 *	postfix [-Dv] [-c config_dir] command
 * DESCRIPTION
 *	Starts, stops and inspects the mail system as Postfix's postfix(1)
 *	and postfix-script do:
 *
 *	start		check the configuration, then start master in the
 *			background; exit 1 ("mail system startup failed") when
 *			master could not start.
 *	start-fg	the same, master in the foreground.
 *	stop		let master finish the work in hand and exit; after five
 *			seconds, kill the whole process group.
 *	abort		stop master and every process at once.
 *	reload		master re-reads main.cf and master.cf.
 *	status		exit 0 when master runs, 1 when not.
 *	flush		ask qmgr to deliver the deferred mail now.
 *	check		create missing queue directories and report problems:
 *			owners and modes, parameters Postroom does not
 *			implement, services whose command it lacks.
 *	set-permissions	give the queue directories their owners and modes.
 *	logrotate	rotate $maillog_file.
 *
 *	Messages are logged as $syslog_name/postfix-script to $maillog_file
 *	and shown on stderr when it is a terminal (or when $maillog_file is
 *	empty: Postroom has no syslog), as Postfix's postlog does.
 * EXIT STATUS
 *	0 on success; 1 on failure or, for status, when master is not
 *	running; 69 (EX_UNAVAILABLE) when flush finds the mail system down.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMainConfig, type MainConfig } from '../global/config.js';
import { formatLogLine, logHostName, MaillogWriter, mailTask, rotateMaillog } from '../global/maillog.js';
import { msg } from '../global/msg.js';
import { runningMaster } from '../master/master_lock.js';
import { prepareQueue } from '../master/master_queue.js';
import { isRoot, type Owners, resolveOwners } from '../master/master_user.js';
import { checkFatal, checkWarn } from '../master/postfix_check.js';
import { servicePath, triggerPath } from '../master/trigger.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';

const USAGE =
  'Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)';
const MASTER = join(dirname(fileURLToPath(import.meta.url)), '../master/main.js');
const EX_UNAVAILABLE = 69;

const tty = process.stderr.isTTY === true;
msg.setProgram('postfix');
// Postfix's postfix command shows its own errors only on a terminal (else syslog).
msg.setSink((_level, line) => {
  if (tty) process.stderr.write(`${line}\n`);
});

const parsed = getopt(process.argv.slice(2), 'c:Dv');
if (parsed.kind === 'error') {
  process.stderr.write(`postfix: ${parsed.message}\n`);
  msg.fatal('usage: postfix [-c config_dir] [-Dv] command');
}
const operands = parsed.kind === 'ok' ? parsed.operands : [];
let configDir: string | undefined;
let verbose = 0;
for (const o of parsed.opts) {
  if (o.opt === 'c') configDir = o.arg;
  else if (o.opt === 'v') verbose++;
}
const command = operands[0] ?? '';
const cfg = loadMainConfig({ configDir });
process.env.MAIL_CONFIG = cfg.configDirectory;
const ownersOrError = resolveOwners(cfg);
const owners: Owners = 'error' in ownersOrError ? msg.fatal(ownersOrError.error) : ownersOrError;

/** postfix-script's $INFO/$WARN/$FATAL: the log file, and stderr on a terminal. */
const script = (() => {
  const program = mailTask(cfg.get('syslog_name'), 'postfix-script');
  const path = cfg.get('maillog_file');
  const writer = path === '' ? null : new MaillogWriter(path, { onError: () => {} });
  const host = logHostName(cfg.get('myhostname'));
  const say = (text: string) => {
    writer?.write(formatLogLine(new Date(), host, program, process.pid, text));
    if (tty || writer === null) process.stderr.write(`${program}: ${text}\n`);
  };
  return {
    info: say,
    warn: (text: string) => say(`warning: ${text}`),
    fatal: (text: string): never => {
      say(`fatal: ${text}`);
      process.exit(1);
    },
  };
})();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kill(1) as postfix-script uses it: a refusal (another user's master) is fatal. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    script.fatal(`kill ${pid}: ${strerror(e)}`);
  }
}

function requireRunning(): number {
  return runningMaster(cfg) ?? script.fatal('the Postfix mail system is not running');
}

async function check(): Promise<void> {
  const problem = await checkFatal(cfg, owners);
  if (problem) script.fatal(problem);
  for (const w of checkWarn(cfg, owners)) script.warn(w);
}

function masterArgs(extra: string[]): string[] {
  return [MASTER, '-c', cfg.configDirectory, ...Array<string>(verbose).fill('-v'), ...extra];
}

/** Start master in the background and wait for its start-up verdict. */
function startBackground(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, masterArgs(['-w']), {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (child.connected) child.disconnect();
      child.unref();
      resolve(ok);
    };
    child.on('message', (m: { type?: string; lines?: string[] }) => {
      if (m.type === 'started') finish(true);
      else if (m.type === 'failed') {
        if (tty) for (const l of m.lines ?? []) process.stderr.write(`${l}\n`);
        finish(false);
      }
    });
    child.on('error', () => finish(false));
    child.on('exit', () => finish(false));
  });
}

function startForeground(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, masterArgs([]), { stdio: 'inherit' });
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const)
      process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function stop(): Promise<void> {
  const pid = requireRunning();
  script.info('stopping the Postfix mail system');
  signal(pid, 'SIGTERM');
  for (let i = 0; i < 5; i++) {
    // Postfix checks at once; master here takes a moment to let its processes finish.
    for (let t = 0; t < 10; t++) {
      if (runningMaster(cfg) === null) return;
      await sleep(100);
    }
    script.info('waiting for the Postfix mail system to terminate');
  }
  script.warn('stopping the Postfix mail system with force');
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    signal(pid, 'SIGKILL');
  }
}

async function flush(): Promise<number> {
  const path = servicePath(cfg, 'public', 'qmgr');
  if (await triggerPath(path, 'F')) return 0;
  process.stderr.write(`postqueue: warning: unable to look up public/qmgr: No such file or directory\n`);
  process.stderr.write('postqueue: fatal: Cannot flush mail queue - mail system is down\n');
  return EX_UNAVAILABLE;
}

async function main(cfgNow: MainConfig): Promise<number> {
  switch (command) {
    case 'start_msg':
      process.stdout.write('Start postfix\n');
      return 0;
    case 'stop_msg':
      process.stdout.write('Stop postfix\n');
      return 0;
    case 'start':
    case 'start-fg': {
      if (runningMaster(cfgNow) !== null) script.fatal('the Postfix mail system is already running');
      await check();
      script.info('starting the Postfix mail system');
      if (command === 'start-fg') return startForeground();
      if (!(await startBackground())) script.fatal('mail system startup failed');
      return 0;
    }
    case 'stop':
      await stop();
      return 0;
    case 'abort':
      signal(requireRunning(), 'SIGQUIT');
      script.info('aborting the Postfix mail system');
      return 0;
    case 'reload': {
      const pid = requireRunning();
      script.info('refreshing the Postfix mail system');
      signal(pid, 'SIGHUP');
      return 0;
    }
    case 'status': {
      const pid = runningMaster(cfgNow);
      if (pid === null) {
        script.info('the Postfix mail system is not running');
        return 1;
      }
      script.info(`the Postfix mail system is running: PID: ${pid}`);
      return 0;
    }
    case 'flush':
      return flush();
    case 'check':
      await check();
      return 0;
    case 'set-permissions':
    case 'upgrade-configuration':
      if (isRoot()) await prepareQueue(cfgNow, owners, true);
      return 0;
    case 'logrotate':
      // rotateMaillog's errors are postfix-script's.
      msg.setSink((_level, line) => script.info(line.slice(line.indexOf(': ') + 2)));
      await rotateMaillog(cfgNow);
      return 0;
    default:
      return script.fatal(`unknown command: '${command}'. ${USAGE}`);
  }
}

process.exitCode = await main(cfg);
