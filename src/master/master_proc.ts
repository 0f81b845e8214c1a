/*
 * master_proc - one master.cf service at run time: listeners, its process,
 * wakeups and throttling
 *
 * One process serves a service (the process limit is the number of
 * connections it serves at once, see docs/daemons.md). Master keeps its
 * listeners open for the whole life of the service: a connection master
 * accepts itself starts the process when none runs (on demand) and is
 * handed over with {type:'connection'} once the process says it is ready;
 * the process also gets every listener ({type:'listen'}) and accepts on
 * it directly from then on. The process sends a copy of each listener
 * back ({type:'held'}); master then stops accepting on it and only holds
 * it open, as Postfix's master stops watching a service that has a
 * process: otherwise both would wake for every connection and master,
 * usually the idle one, would win most and pass each over (CPU on both
 * sides, per message). When the process goes (exit, reload), master
 * accepts on the held copy again, so no connection waiting in the
 * socket's queue is lost.
 *
 * A process that exits 0 is done; any other end is logged as Postfix logs
 * it and, when the process died before it was ready to serve ("bad command
 * startup"), the service is throttled: no new process for
 * $service_throttle_time, connections wait (paused) until then.
 * A wakeup service gets the trigger "W" every `wakeup` seconds, the first
 * one at start-up; with "?" only once it has been used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { msg } from '../global/msg.js';
import { addrText, openListener, removeListenerPath } from './master_listen.js';
import type { ListenAddr, ServiceDef } from './master_services.js';
import { triggerPath } from './trigger.js';

export interface ProcEnv {
  readonly configDir: string;
  /** uid/gid for unprivileged services (root only). */
  readonly mailOwner: { uid: number; gid: number } | null;
  readonly throttleMs: number;
}

/** Connections kept waiting for a throttled or starting service; more are refused. */
const MAX_PENDING = 100;

export function exitText(
  path: string,
  pid: number,
  code: number | null,
  signal: NodeJS.Signals | null,
): string {
  if (signal) return `process ${path} pid ${pid} killed by signal ${constants.signals[signal] ?? signal}`;
  return `process ${path} pid ${pid} exit status ${code}`;
}

/** A listening socket as Node passes it between processes (a Pipe or TCP handle): open, not accepted on. */
interface HeldHandle {
  close(): void;
}

/** One listener of a service. */
interface Listener {
  readonly addr: ListenAddr;
  /** Master accepts on it (no process has it, or none has sent its copy back yet). */
  server: Server | null;
  /** The socket held open while the process accepts on it. */
  held: HeldHandle | null;
  /** Master may close its server without removing the socket's name (master_listen.ts). */
  readonly releasable: boolean;
}

export class MasterService {
  readonly #listeners: Listener[] = [];
  #child: ChildProcess | null = null;
  #ready = false;
  /** Processes told to stop (reload) that have not exited yet. */
  readonly #retiring = new Set<ChildProcess>();
  readonly #pending: Socket[] = [];
  #used = false;
  #throttleTimer: NodeJS.Timeout | undefined;
  #wakeupTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Number of processes started, for tests and "bad command" bookkeeping. */
  starts = 0;

  constructor(
    public def: ServiceDef,
    public env: ProcEnv,
  ) {}

  get name(): string {
    return this.def.key;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Every live process of this service (serving and retiring). */
  children(): ChildProcess[] {
    return [...(this.#child ? [this.#child] : []), ...this.#retiring];
  }

  /** Open every listener; rejects with the first bind error. */
  async listen(): Promise<void> {
    const owner = this.env.mailOwner;
    for (const addr of this.def.listen) {
      const { server, releasable } = await openListener(addr, owner, (s) => this.#onConnection(s));
      this.#listeners.push({ addr, server, held: null, releasable });
    }
  }

  /** The process sent back its copy of listener `index`: stop accepting on ours, hold the copy. */
  #onHeld(child: ChildProcess, index: unknown, handle: HeldHandle | undefined): void {
    const l = typeof index === 'number' ? this.#listeners[index] : undefined;
    if (handle === undefined) return;
    if (l === undefined || child !== this.#child || this.#closed || !l.releasable) {
      handle.close();
      return;
    }
    l.held?.close();
    l.held = handle;
    l.server?.close();
    l.server = null;
  }

  /** No process serves any more: master accepts on the held listeners again. */
  #repoll(): void {
    if (this.#closed) return;
    for (const l of this.#listeners) {
      if (l.server !== null || l.held === null) continue;
      const server = createServer({ pauseOnConnect: true }, (s) => this.#onConnection(s));
      server.on('error', (e) => msg.warn(`${this.def.key}: accept: ${e.message}`));
      // The server takes over the held descriptor (a TCP handle itself, a Pipe by its fd).
      server.listen(l.held);
      l.server = server;
      l.held = null;
    }
  }

  /** Wakeup timer (unix listeners only: the trigger connects to the socket). */
  startWakeups(): void {
    this.#stopWakeups();
    const s = this.def.service;
    const first = this.def.listen[0];
    if (s.wakeupSeconds <= 0 || first?.kind !== 'unix') return;
    const wake = () => {
      if (this.#closed || (s.wakeupWhenUsed && !this.#used)) return;
      void triggerPath(first.path, 'W');
    };
    if (!s.wakeupWhenUsed) wake();
    this.#wakeupTimer = setInterval(wake, s.wakeupSeconds * 1000);
  }

  #stopWakeups(): void {
    if (this.#wakeupTimer) clearInterval(this.#wakeupTimer);
    this.#wakeupTimer = undefined;
  }

  #onConnection(sock: Socket): void {
    sock.on('error', () => {});
    if (this.#closed) {
      sock.destroy();
      return;
    }
    if (this.#child && this.#ready) {
      this.#hand(sock);
      return;
    }
    if (this.#pending.length >= MAX_PENDING) {
      sock.destroy();
      return;
    }
    this.#pending.push(sock);
    if (!this.#child) this.start();
  }

  #hand(sock: Socket): void {
    const child = this.#child;
    if (!child?.connected) {
      this.#pending.push(sock);
      return;
    }
    child.send({ type: 'connection' }, sock, { keepOpen: false }, (e) => {
      if (e) sock.destroy();
    });
  }

  /** Start the process unless one runs, the service is throttled or cannot run. */
  start(): void {
    if (this.#child || this.#throttleTimer || this.#closed) return;
    const { program, argv, service } = this.def;
    if (program.kind === 'missing' || this.def.problem || this.def.run === 'never') {
      for (const s of this.#pending.splice(0)) s.destroy();
      return;
    }
    const owner = service.unprivileged ? this.env.mailOwner : null;
    const [file, args] =
      program.kind === 'node'
        ? [process.execPath, [...nodeFlags(), program.path, ...argv]]
        : [program.path, argv];
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, MAIL_CONFIG: this.env.configDir },
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      });
    } catch (e) {
      msg.warn(`spawn ${program.path}: ${e instanceof Error ? e.message : String(e)}`);
      this.#throttle();
      return;
    }
    this.starts++;
    this.#used = true;
    this.#child = child;
    this.#ready = false;
    child.on('error', (e) => msg.warn(`spawn ${program.path}: ${e.message}`));
    child.on('message', (m: { type?: string; index?: unknown }, handle?: unknown) => {
      if (m?.type === 'ready' && child === this.#child) this.#onReady(child);
      else if (m?.type === 'held') this.#onHeld(child, m.index, handle as HeldHandle | undefined);
    });
    child.on('exit', (code, signal) => this.#onExit(child, code, signal));
  }

  #onReady(child: ChildProcess): void {
    this.#ready = true;
    const limit = this.def.service.processLimit;
    for (const [index, l] of this.#listeners.entries())
      if (l.server !== null) child.send({ type: 'listen', limit, index }, l.server);
    for (const s of this.#pending.splice(0)) this.#hand(s);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const path = this.def.program.path;
    const wasReady = child === this.#child ? this.#ready : true;
    if (code !== 0) msg.warn(exitText(path, child.pid ?? 0, code, signal));
    if (this.#retiring.delete(child)) return;
    if (child !== this.#child) return;
    this.#child = null;
    this.#ready = false;
    if (this.#closed) return;
    this.#repoll();
    if (this.def.run === 'always') {
      if (code === 0) this.start();
      else this.#throttle();
      return;
    }
    if (code !== 0 && !wasReady) {
      msg.warn(`${path}: bad command startup -- throttling`);
      this.#throttle();
      return;
    }
    if (this.#pending.length > 0) this.start();
  }

  #throttle(): void {
    this.#throttleTimer = setTimeout(() => {
      this.#throttleTimer = undefined;
      if (this.#pending.length > 0 || this.def.run === 'always') this.start();
    }, this.env.throttleMs);
  }

  /** Tell the process(es) to finish the work in hand and exit; new ones start on demand. */
  retire(): void {
    const child = this.#child;
    if (child) {
      this.#child = null;
      this.#ready = false;
      this.#repoll();
      this.#retiring.add(child);
      // postlogd (run 'always') is not a runService daemon: it stops on SIGTERM.
      if (child.connected && this.def.run !== 'always') child.send({ type: 'stop' }, () => {});
      else child.kill('SIGTERM');
    }
  }

  /** A new definition with the same listeners (reload). */
  update(def: ServiceDef): void {
    this.def = def;
    this.retire();
    this.startWakeups();
  }

  /** Stop listening (removes the socket files) and retire the processes. */
  close(): void {
    this.#closed = true;
    this.#stopWakeups();
    if (this.#throttleTimer) clearTimeout(this.#throttleTimer);
    this.#throttleTimer = undefined;
    for (const s of this.#pending.splice(0)) s.destroy();
    for (const l of this.#listeners.splice(0)) {
      l.server?.close();
      l.held?.close();
      // A server bound under a temporary name leaves the real one behind.
      if (l.releasable) removeListenerPath(l.addr);
    }
    this.retire();
  }

  /** Abort: signal every process now. */
  kill(signal: NodeJS.Signals): void {
    for (const c of this.children()) c.kill(signal);
  }

  describe(): string {
    return `${this.def.key} on ${this.def.listen.map(addrText).join(', ')}`;
  }
}

/**
 * Extra node flags for every daemon, from POSTROOM_NODE_FLAGS (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the whole system:
 * node refuses --cpu-prof in NODE_OPTIONS). For developers; see
 * docs/performance.md.
 */
function nodeFlags(): string[] {
  return (process.env.POSTROOM_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}
