/*
 * rpc - request/reply between daemons: newline-delimited JSON on a UNIX socket
 *
 *   serveRpc(sock, async (req) => ({ status: 0 }));           // service side
 *   const c = new RpcClient(servicePath(cfg, 'private', 'bounce'));
 *   const reply = await c.call({ request: 'append', ... });    // client side
 *
 * The client numbers its requests ("id"); the service answers each with the
 * same id as soon as it is done, so many requests share one connection and
 * a slow one does not hold up the rest. JSON escapes every control
 * character, so a frame is exactly one line whatever the addresses hold.
 *
 * Guarantees: a line longer than maxLine ends the connection (no buffer
 * grows with input); a handler that throws gets {"error": text}, never a
 * crashed service; a client call always settles: with the reply, or with
 * RpcError when the service cannot be reached, the connection drops or
 * timeoutMs passes. Callers treat RpcError as a temporary failure.
 */

import { connect, type Socket } from 'node:net';
import { msg } from './msg.js';

export type RpcMessage = Record<string, unknown>;

const DEFAULT_MAX_LINE = 8 * 1024 * 1024;

export class RpcError extends Error {
  override name = 'RpcError';
}

/** Split a byte stream into lines without holding more than maxLine bytes of one. */
class LineSplitter {
  #parts: Buffer[] = [];
  #len = 0;
  constructor(private readonly maxLine: number) {}

  /** Complete lines in chunk, or null when a line is too long. */
  push(chunk: Buffer): string[] | null {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const whole = this.#len === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#len = 0;
      if (whole.length > this.maxLine) return null;
      lines.push(whole.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#parts.push(chunk.subarray(start));
      this.#len += chunk.length - start;
      if (this.#len > this.maxLine) return null;
    }
    return lines;
  }
}

function parseObject(line: string): RpcMessage | null {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as RpcMessage) : null;
  } catch {
    return null;
  }
}

export interface ServeOptions {
  readonly maxLine?: number;
  /** For warnings: "bounce", "local"... */
  readonly name?: string;
}

/**
 * Answer requests on one connection until the client closes it. Requests
 * run concurrently; a reply is written when its handler settles.
 */
export function serveRpc(
  sock: Socket,
  handler: (req: RpcMessage) => Promise<RpcMessage> | RpcMessage,
  opts: ServeOptions = {},
): void {
  const split = new LineSplitter(opts.maxLine ?? DEFAULT_MAX_LINE);
  const who = opts.name ?? 'service';
  sock.on('error', () => {});
  const reply = (obj: RpcMessage) => {
    if (!sock.destroyed && sock.writable) sock.write(`${JSON.stringify(obj)}\n`);
  };
  sock.on('data', (chunk: Buffer) => {
    const lines = split.push(chunk);
    if (lines === null) {
      msg.warn(`${who}: request longer than ${opts.maxLine ?? DEFAULT_MAX_LINE} bytes; closing connection`);
      sock.destroy();
      return;
    }
    for (const line of lines) {
      if (line === '') continue;
      const req = parseObject(line);
      if (req === null) {
        msg.warn(`${who}: malformed request; closing connection`);
        sock.destroy();
        return;
      }
      const id = req.id;
      void (async () => {
        try {
          const r: RpcMessage = await handler(req);
          reply({ ...r, id });
        } catch (e) {
          const text = e instanceof Error ? e.message : String(e);
          msg.warn(`${who}: request ${String(req.request ?? '')}: ${text}`);
          reply({ id, error: text });
        }
      })();
    }
  });
}

interface Pending {
  resolve(v: RpcMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface ClientOptions {
  /** Per call; 0 = none. Default 3600 s (a delivery may take long). */
  readonly timeoutMs?: number;
  readonly maxLine?: number;
}

/** One persistent connection to a request/reply service, opened on first use. */
export class RpcClient {
  #sock: Socket | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  readonly #maxLine: number;

  constructor(
    readonly path: string,
    opts: ClientOptions = {},
  ) {
    this.#timeoutMs = opts.timeoutMs ?? 3_600_000;
    this.#maxLine = opts.maxLine ?? DEFAULT_MAX_LINE;
  }

  /** Requests waiting for a reply. */
  get inFlight(): number {
    return this.#pending.size;
  }

  call(req: RpcMessage): Promise<RpcMessage> {
    const id = this.#nextId++;
    const sock = this.#connection();
    return new Promise<RpcMessage>((resolve, reject) => {
      const timer =
        this.#timeoutMs > 0
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(new RpcError(`${this.path}: no reply in ${this.#timeoutMs / 1000} s`));
            }, this.#timeoutMs)
          : undefined;
      this.#pending.set(id, { resolve, reject, timer });
      sock.ref();
      sock.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  /** Close the connection; calls in flight fail with RpcError. */
  close(): void {
    this.#sock?.destroy();
    this.#fail(new RpcError(`${this.path}: connection closed`));
    this.#sock = null;
  }

  #connection(): Socket {
    if (this.#sock !== null && !this.#sock.destroyed) return this.#sock;
    const sock = connect(this.path);
    const split = new LineSplitter(this.#maxLine);
    this.#sock = sock;
    // An idle connection must not keep a short-lived process alive (ref'd while calls wait).
    sock.on('data', (chunk: Buffer) => {
      const lines = split.push(chunk);
      if (lines === null) {
        sock.destroy(new Error(`reply longer than ${this.#maxLine} bytes`));
        return;
      }
      for (const line of lines) {
        const r = parseObject(line);
        const p = r === null ? undefined : this.#pending.get(Number(r.id));
        if (r === null || p === undefined) continue;
        this.#pending.delete(Number(r.id));
        if (p.timer) clearTimeout(p.timer);
        if (typeof r.error === 'string') p.reject(new RpcError(`${this.path}: ${r.error}`));
        else p.resolve(r);
      }
      if (this.#pending.size === 0) sock.unref();
    });
    const lost = (why: string) => {
      if (this.#sock === sock) this.#sock = null;
      this.#fail(new RpcError(`${this.path}: ${why}`));
    };
    sock.on('error', (e: NodeJS.ErrnoException) => lost(e.code === 'ENOENT' ? 'no such service' : e.message));
    sock.on('close', () => lost('connection closed'));
    return sock;
  }

  #fail(e: Error): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
  }
}

/** One call on a connection of its own. */
export async function rpcCall(path: string, req: RpcMessage, opts: ClientOptions = {}): Promise<RpcMessage> {
  const c = new RpcClient(path, opts);
  try {
    return await c.call(req);
  } finally {
    c.close();
  }
}
