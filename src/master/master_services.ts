/*
 * master_services - the services master runs, from master.cf and main.cf
 *
 * Each enabled master.cf row (the last of each name/type) becomes a
 * ServiceDef: where it listens, which program runs it, with which
 * arguments, and a signature that changes whenever anything master
 * passes to the process changes (reload compares them).
 *
 * Programs: command X is Postroom's own daemon $daemon_directory/X/main.js
 * (run with node) when that exists, else the executable $daemon_directory/X,
 * else it is missing: master reports it and does not listen for it.
 * Types: unix and fifo listen on a UNIX-domain socket (Postroom's triggers
 * connect, they never open FIFOs), inet on TCP; unix-dgram is only used
 * for postlogd (its own FIFO); pass is not supported.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';
import { lastOfEach, type MasterCf, type ResolvedService, resolveEntry } from './master_cf.js';

export type Program =
  | { readonly kind: 'node'; readonly path: string }
  | { readonly kind: 'exec'; readonly path: string }
  | { readonly kind: 'missing'; readonly path: string };

export type ListenAddr =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'inet'; readonly host: string; readonly port: number };

export interface ServiceDef {
  /** "name/type", unique in the table. */
  readonly key: string;
  readonly service: ResolvedService;
  readonly program: Program;
  /** Arguments after the program: -n name -t type [-v] then master.cf's. */
  readonly argv: readonly string[];
  readonly listen: readonly ListenAddr[];
  /**
   * demand: started by a connection or wakeup; always: started with master
   * and kept running (postlogd, which has no socket but its FIFO); never:
   * postlogd without $maillog_file.
   */
  readonly run: 'demand' | 'always' | 'never';
  /** Unsupported type or address: why master does not run it. */
  readonly problem: string | null;
  readonly signature: string;
}

export function findProgram(daemonDir: string, command: string): Program {
  const js = join(daemonDir, command, 'main.js');
  if (existsSync(js)) return { kind: 'node', path: js };
  const bin = join(daemonDir, command);
  try {
    accessSync(bin, constants.X_OK);
    return { kind: 'exec', path: bin };
  } catch {
    return { kind: 'missing', path: bin };
  }
}

let servicesFile: Map<string, number> | undefined;

/** A port name from /etc/services (tcp), or a number. */
export function lookupPort(port: string): number | null {
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    return n > 0 && n < 65536 ? n : null;
  }
  if (servicesFile === undefined) {
    servicesFile = new Map();
    try {
      for (const line of readFileSync('/etc/services', 'latin1').split('\n')) {
        const f = line.replace(/#.*/, '').trim().split(/\s+/);
        const m = /^(\d+)\/tcp$/.exec(f[1] ?? '');
        if (!m) continue;
        for (const name of [f[0]!, ...f.slice(2)])
          if (!servicesFile.has(name)) servicesFile.set(name, Number(m[1]));
      }
    } catch {
      // No services file: only numeric ports.
    }
  }
  return servicesFile.get(port) ?? null;
}

/** The addresses a bare port listens on: $inet_interfaces with $inet_protocols. */
export function interfaceHosts(cfg: MainConfig): string[] {
  const protos = cfg.list('inet_protocols').map((p) => p.toLowerCase());
  const v4 = protos.includes('all') || protos.includes('ipv4');
  const v6 = protos.includes('all') || protos.includes('ipv6');
  const ifaces = cfg.list('inet_interfaces').map((i) => i.toLowerCase());
  if (ifaces.length === 0 || ifaces.includes('all')) return v6 && !v4 ? ['::'] : ['0.0.0.0'];
  const out: string[] = [];
  for (const i of ifaces) {
    if (i === 'loopback-only') {
      if (v4) out.push('127.0.0.1');
      if (v6 && !v4) out.push('::1');
    } else if (i === 'localhost') out.push('127.0.0.1');
    else out.push(i.replace(/^\[|\]$/g, ''));
  }
  return out;
}

/** Build the table; `warn` gets master.cf's warnings, `fatal` a bad row. */
export function buildServices(cfg: MainConfig, cf: MasterCf, verbose: number): ServiceDef[] {
  const daemonDir = cfg.get('daemon_directory');
  const queueDir = cfg.get('queue_directory');
  const defaultLimit = cfg.int('default_process_limit');
  const defs: ServiceDef[] = [];
  for (const entry of lastOfEach(cf.entries)) {
    const service = resolveEntry(cf.file, entry, defaultLimit);
    const program = findProgram(daemonDir, entry.command);
    const verboseArgs: string[] = Array(verbose).fill('-v');
    // postlogd is not a runService daemon: it takes no -n/-t (MAIL_CONFIG names the configuration).
    const argv =
      entry.type === 'unix-dgram'
        ? [...verboseArgs, ...entry.args]
        : ['-n', entry.name, '-t', entry.type, ...verboseArgs, ...entry.args];
    let run: ServiceDef['run'] = 'demand';
    if (entry.type === 'unix-dgram') run = cfg.get('maillog_file') === '' ? 'never' : 'always';
    let listen: ListenAddr[] = [];
    let problem: string | null = null;
    const ep = service.endpoint;
    if (entry.type === 'pass') problem = `service type "pass" is not supported by Postroom`;
    else if (ep.kind === 'local') {
      if (entry.type !== 'unix-dgram') listen = [{ kind: 'unix', path: join(queueDir, ep.path) }];
    } else {
      const port = lookupPort(ep.port);
      if (port === null) problem = `unknown service: ${ep.port}/tcp`;
      else
        listen = (ep.host === null ? interfaceHosts(cfg) : [ep.host]).map((host) => ({
          kind: 'inet',
          host,
          port,
        }));
    }
    defs.push({
      key: `${entry.name}/${entry.type}`,
      service,
      program,
      argv,
      listen,
      run,
      problem,
      signature: JSON.stringify([
        program,
        argv,
        listen,
        service.unprivileged,
        service.processLimit,
        entry.wakeup,
      ]),
    });
  }
  return defs;
}
