/*
 * service - the skeleton every Postroom daemon runs in (Postfix's
 * single_server/multi_server/trigger_server in one)
 *
 *   runService({ program: 'cleanup', kind: 'connection', connection(sock, ctx) {...} });
 *
 * Arguments, as master passes them: -n service -t type [-o name=value]...
 * [-v]; MAIL_CONFIG names the configuration directory (-c and the other
 * Postfix daemon flags are accepted and ignored). Started by master (an
 * IPC channel exists), the service takes its listener from master; started
 * by hand or by a test, it listens on its own socket
 * ($queue_directory/<public|private>/<service>, or the inet address).
 *
 * Guarantees: at most `limit` connections (maxproc) are served at once,
 * the rest wait paused in arrival order; a 'trigger' service gets each
 * client's bytes (at most 1 kB) once the client closes; the process exits
 * 0 after $max_idle seconds without a client (unless keepAlive) and on
 * 'stop'/SIGTERM once the connections in hand are done; an uncaught error
 * logs fatal and exits 1, and master starts the service again.
 * See docs/daemons.md.
 */

import { existsSync, lstatSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { loadMainConfig, type MainConfig } from '../global/config.js';
import { initDaemonLogging } from '../global/maillog.js';
import { msg } from '../global/msg.js';
import { type QueueLayout, queueLayout } from '../global/queue_dirs.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';
import { parseInetName, readMasterCf } from './master_cf.js';
import { servicePath } from './trigger.js';

export interface ServiceContext {
  readonly cfg: MainConfig;
  /** The master.cf service name (-n), e.g. "cleanup", "relay", "127.0.0.1:2525". */
  readonly service: string;
  /** The master.cf service type (-t): unix, inet, ... */
  readonly transport: string;
  readonly layout: QueueLayout;
  /** True when master started this process. */
  readonly managed: boolean;
}

export interface ServiceSpec {
  /** The program name in log lines ($syslog_name/<program>). */
  readonly program: string;
  readonly kind: 'connection' | 'trigger';
  init?(ctx: ServiceContext): Promise<void> | void;
  /** kind 'connection': one client. The skeleton counts it until the socket closes. */
  connection?(sock: Socket, ctx: ServiceContext): void;
  /** kind 'trigger': the bytes one client wrote (master's wakeup is "W"). */
  trigger?(bytes: Buffer, ctx: ServiceContext): void;
  /** Finish the work in hand before the process exits (stop, idle, SIGTERM). */
  stop?(): Promise<void> | void;
  /** Stay up when idle (qmgr, pickup): they have work of their own between clients. */
  readonly keepAlive?: boolean;
}

const TRIGGER_MAX = 1024;

interface ListenMessage {
  readonly type: 'listen' | 'connection' | 'stop';
  readonly limit?: number;
  /** Which of master's listeners: echoed with the copy sent back. */
  readonly index?: number;
}

/** Parse the daemon command line (Postfix's flags; unknown ones are fatal). */
function parseArgs(argv: readonly string[]): { service: string; transport: string; overrides: string[] } {
  const parsed = getopt(argv, 'cdDiln:o:s:St:uvVz');
  if (parsed.kind === 'error') msg.fatal(parsed.message);
  let service = '';
  let transport = 'unix';
  const overrides: string[] = [];
  for (const o of parsed.opts) {
    if (o.opt === 'n') service = o.arg ?? '';
    else if (o.opt === 't') transport = o.arg ?? 'unix';
    else if (o.opt === 'o') overrides.push(o.arg ?? '');
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  return { service, transport, overrides };
}

export function runService(spec: ServiceSpec): void {
  msg.setProgram(`postfix/${spec.program}`);
  const args = parseArgs(process.argv.slice(2));
  const service = args.service || spec.program;
  const cfg = loadMainConfig({ overrides: args.overrides });
  initDaemonLogging(cfg, spec.program);
  const ctx: ServiceContext = {
    cfg,
    service,
    transport: args.transport,
    layout: queueLayout(cfg),
    managed: typeof process.send === 'function',
  };
  process.on('uncaughtException', (e) => {
    msg.setExitOnFatal(true);
    msg.fatal(`${spec.program}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  });
  process.on('unhandledRejection', (e) => {
    msg.setExitOnFatal(true);
    msg.fatal(`${spec.program}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  });
  new ServiceRunner(spec, ctx).start().catch((e: unknown) => {
    msg.fatal(e instanceof Error ? e.message : String(e));
  });
}

class ServiceRunner {
  #limit = 0;
  #active = 0;
  readonly #waiting: Socket[] = [];
  readonly #servers: Server[] = [];
  #stopping = false;
  /** The socket this process made itself (stand-alone), removed when it stops. */
  #ownPath: string | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #maxIdleMs: number;

  constructor(
    readonly spec: ServiceSpec,
    readonly ctx: ServiceContext,
  ) {
    this.#maxIdleMs = ctx.cfg.time('max_idle', 's') * 1000;
  }

  async start(): Promise<void> {
    await this.spec.init?.(this.ctx);
    process.on('SIGTERM', () => void this.stop());
    if (this.ctx.managed) {
      process.on('message', (m: ListenMessage, handle?: Server | Socket) => this.#onMaster(m, handle));
      // Master's death closes the channel: nothing would restart or stop us.
      process.on('disconnect', () => void this.stop());
      // Master may have died while we started: then there is no one to serve.
      if (!process.connected) return this.stop();
      process.send?.({ type: 'ready' }, undefined, {}, () => {});
    } else {
      this.#listenSelf();
    }
    this.#armIdle();
  }

  #onMaster(m: ListenMessage, handle?: Server | Socket): void {
    if (m.type === 'listen' && handle) {
      this.#limit = m.limit ?? 0;
      const server = handle as Server;
      this.#servers.push(server);
      server.on('connection', (s: Socket) => this.#accept(s));
      server.on('error', (e) => msg.warn(`${this.ctx.service}: accept: ${e.message}`));
      // Master holds this copy and stops accepting on its own (master_proc.ts).
      const native = (server as unknown as { _handle?: unknown })._handle;
      if (m.index !== undefined && native)
        process.send?.({ type: 'held', index: m.index }, native as Server, {}, () => {});
    } else if (m.type === 'connection' && handle) {
      this.#accept(handle as Socket);
    } else if (m.type === 'stop') {
      void this.stop();
    }
  }

  /** Not started by master: open the service's own listener. */
  #listenSelf(): void {
    const server = createServer((s) => this.#accept(s));
    this.#servers.push(server);
    server.on('error', (e) => msg.fatal(`${this.ctx.service}: listen: ${e.message}`));
    if (this.ctx.transport === 'inet') {
      const hp = parseInetName(this.ctx.service);
      if ('error' in hp) msg.fatal(hp.error);
      else server.listen({ host: hp.host ?? '127.0.0.1', port: Number(hp.port) });
      return;
    }
    const path = servicePath(this.ctx.cfg, this.#visibility(), this.ctx.service);
    try {
      if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
    } catch (e) {
      msg.fatal(`remove ${path}: ${strerror(e)}`);
    }
    if (!existsSync(dirname(path))) msg.fatal(`open ${dirname(path)}: No such file or directory`);
    // Bind under a temporary name and rename once listening: whoever sees the
    // socket's name can connect (a bare bind would refuse until listen()).
    const tmp = `${path}.${process.pid}.tmp`;
    server.listen(tmp, () => {
      try {
        renameSync(tmp, path);
        this.#ownPath = path;
      } catch (e) {
        msg.fatal(`rename ${tmp} to ${path}: ${strerror(e)}`);
      }
    });
  }

  /** public or private, as master.cf's private column says; private when unlisted. */
  #visibility(): 'public' | 'private' {
    try {
      const cf = readMasterCf(this.ctx.cfg.configDirectory);
      const e = cf.entries.find((x) => x.name === this.ctx.service && x.type === 'unix');
      return e?.private === 'n' ? 'public' : 'private';
    } catch {
      return 'private';
    }
  }

  #accept(sock: Socket): void {
    if (this.#stopping) {
      sock.destroy();
      return;
    }
    if (this.#limit > 0 && this.#active >= this.#limit) {
      sock.pause();
      this.#waiting.push(sock);
      sock.once('close', () => {
        const i = this.#waiting.indexOf(sock);
        if (i >= 0) this.#waiting.splice(i, 1);
      });
      return;
    }
    this.#serve(sock);
  }

  #serve(sock: Socket): void {
    this.#active++;
    this.#disarmIdle();
    sock.once('close', () => {
      this.#active--;
      const next = this.#waiting.shift();
      if (next && !this.#stopping) {
        next.resume();
        this.#serve(next);
      }
      if (this.#active === 0) {
        if (this.#stopping) void this.#exit();
        else this.#armIdle();
      }
    });
    if (this.spec.kind === 'trigger') {
      this.#readTrigger(sock);
      return;
    }
    try {
      this.spec.connection?.(sock, this.ctx);
    } catch (e) {
      msg.warn(`${this.ctx.service}: ${e instanceof Error ? e.message : String(e)}`);
      sock.destroy();
    }
  }

  #readTrigger(sock: Socket): void {
    const parts: Buffer[] = [];
    let len = 0;
    sock.on('error', () => {});
    sock.setTimeout(this.ctx.cfg.time('ipc_timeout', 's') * 1000, () => sock.destroy());
    sock.on('data', (b: Buffer) => {
      if (len < TRIGGER_MAX) parts.push(b.subarray(0, TRIGGER_MAX - len));
      len += b.length;
    });
    sock.on('end', () => {
      sock.destroy();
      const bytes = Buffer.concat(parts);
      if (bytes.length > 0) this.spec.trigger?.(bytes, this.ctx);
    });
  }

  #armIdle(): void {
    this.#disarmIdle();
    if (this.spec.keepAlive || !this.ctx.managed || this.#active > 0) return;
    this.#idleTimer = setTimeout(() => void this.stop(), this.#maxIdleMs);
    this.#idleTimer.unref();
  }

  #disarmIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Stop accepting; exit once the connections in hand are done. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#disarmIdle();
    for (const s of this.#servers) s.close();
    if (this.#ownPath !== undefined) rmSync(this.#ownPath, { force: true });
    for (const s of this.#waiting.splice(0)) s.destroy();
    if (this.#active === 0) await this.#exit();
  }

  async #exit(): Promise<void> {
    try {
      await this.spec.stop?.();
    } finally {
      process.exit(0);
    }
  }
}
