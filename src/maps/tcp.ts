/*
 * tcp - lookups sent to a TCP server, tcp_table(5)
 *
 * "tcp:host:port" (host may be "[address]"). For each lookup the client
 * sends "get KEY\n", the key %XX-encoded (%, whitespace, control and
 * non-ASCII bytes), and reads one reply line of at most 4096 bytes:
 * "2xx text" found (text %XX-decoded), "5xx text" not found, "4xx text"
 * temporary error; anything else is a protocol error. Keys are not folded
 * (like Postfix: the server decides).
 *
 * As in Postfix, a connection failure, a dropped connection or an
 * over-long reply closes the connection and the request is tried again,
 * up to 10 times one second apart, each failure logged; then the lookup
 * answers retry. Every send and receive has a time limit (100 s), replies
 * are bounded, and requests on one table are sent one at a time over one
 * connection that is reopened when needed. A server that is down or
 * misbehaves yields retry, never a crash. No sequence.
 *
 * Also home of NetClient, the bounded, time-limited connection that
 * socketmap(5) tables use too.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createConnection, isIP, type Socket } from 'node:net';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { type Dict, DictOpenError, type DictOpener, found, type Lookup, NOTFOUND, retry } from './dict.js';

/** Postfix's limits; tests shorten them. */
export const TCP_LIMITS = { timeoutMs: 100_000, tries: 10, retryDelayMs: 1000, maxReply: 4096 };

export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One client connection: writes, and reads replies through a parser with a
 * bounded buffer and a deadline. The socket is paused unless a reply is
 * awaited, and unreferenced when idle so it never keeps a process alive.
 */
export class NetClient {
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  private constructor(private readonly sock: Socket) {
    sock.pause();
    sock.unref();
    sock.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    sock.on('end', () => {
      this.#eof = true;
      this.#wake?.();
    });
    sock.on('error', (e) => {
      this.#error = e;
      this.#eof = true;
      this.#wake?.();
    });
    sock.on('close', () => {
      this.#eof = true;
      this.#wake?.();
    });
  }

  static connect(ep: Endpoint, timeoutMs: number): Promise<NetClient> {
    return new Promise((resolve, reject) => {
      const sock = 'path' in ep ? createConnection(ep.path) : createConnection(ep.port, ep.host);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(Object.assign(new Error('Connection timed out'), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new NetClient(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      });
    });
  }

  get usable(): boolean {
    return !this.#eof && !this.sock.destroyed;
  }

  /**
   * Send a request and read one reply: parse() returns the reply and the
   * bytes it used, null for "need more", or an error word. Resolves to the
   * reply, or to 'eof', 'timeout' or the parser's error word.
   */
  async exchange<T>(
    request: Buffer,
    parse: (buf: Buffer) => { value: T; used: number } | null | string,
    timeoutMs: number,
  ): Promise<{ value: T } | { failure: string }> {
    const deadline = Date.now() + timeoutMs;
    this.sock.ref();
    this.sock.write(request);
    this.sock.resume();
    try {
      for (;;) {
        const r = parse(this.#buf);
        if (typeof r === 'string') return { failure: r };
        if (r) {
          this.#buf = this.#buf.subarray(r.used);
          return { value: r.value };
        }
        if (this.#eof) return { failure: 'eof' };
        if (Date.now() >= deadline) return { failure: 'timeout' };
        await this.#wait(deadline);
      }
    } finally {
      this.sock.pause();
      this.sock.unref();
    }
  }

  /** Until new data, end of input, or the deadline. */
  #wait(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), Math.max(0, deadline - Date.now()));
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  get lastError(): Error | null {
    return this.#error;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Port number or /etc/services name, as getaddrinfo() would take it. */
function servicePort(service: string): number | string {
  if (/^[0-9]+$/.test(service)) return Number(service);
  try {
    for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
      const f = line.replace(/#.*/, '').trim().split(/\s+/);
      const [name, portProto, ...aliases] = f;
      if (portProto?.endsWith('/tcp') && (name === service || aliases.includes(service))) {
        return Number(portProto.slice(0, -4));
      }
    }
  } catch {
    // No services file: the name is simply unknown.
  }
  return 'Servname not supported for ai_socktype';
}

/** "host:port" or "[addr]:port" -> parts; a bare service means the local host. */
export function splitHostPort(text: string): { host: string; service: string } | string {
  let host = '';
  let service = text;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return `${text}: bad host:port syntax`;
    host = text.slice(1, close);
    service = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      service = text.slice(colon + 1);
    }
  }
  // Postfix reads a service starting with a digit as a number and refuses the rest.
  if (/^[0-9]/.test(service) && !/^[0-9]+$/.test(service)) return `${text}: garbage after numerical service`;
  return { host: host === '' ? 'localhost' : host, service };
}

/** Resolve host and service; a failure is getaddrinfo()'s message. */
export async function resolveEndpoint(host: string, service: string): Promise<Endpoint | string> {
  const port = servicePort(service);
  if (typeof port === 'string') return port;
  if (isIP(host)) return { host, port };
  try {
    const a = await dnsLookup(host);
    return { host: a.address, port };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOTFOUND' ? 'Name or service not known' : 'Temporary failure in name resolution';
  }
}

/** %XX-encode %, whitespace, control characters and every non-ASCII byte. */
export function encodeTcp(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out +=
      b === 0x25 || b <= 0x20 || b >= 0x7f
        ? `%${b.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(b);
  }
  return out;
}

/** Undo %XX encoding; null for a malformed escape. A %00 ends the text, as in C. */
export function decodeTcp(text: string): string | null {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x25) {
      bytes.push(raw[i]!);
      continue;
    }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  const nul = bytes.indexOf(0);
  return Buffer.from(nul < 0 ? bytes : bytes.slice(0, nul)).toString('utf8');
}

/** Control characters in a logged reply become "_", as Postfix's printable() does. */
const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '_');

/** One reply line, newline excluded; 'toolong' past the limit. */
function replyLine(buf: Buffer): { value: string; used: number } | null | string {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return buf.length >= TCP_LIMITS.maxReply ? 'toolong' : null;
  if (nl + 1 > TCP_LIMITS.maxReply) return 'toolong';
  return { value: buf.subarray(0, nl).toString('utf8'), used: nl + 1 };
}

/** Postfix leaves errno from its non-blocking connect in "unexpected EOF" warnings. */
const EOF_ERRNO = 'Operation now in progress';

export const openDict: DictOpener = async (name) => {
  const hp = splitHostPort(name);
  if (typeof hp === 'string') throw new DictOpenError(`tcp:${name}`, hp);
  const { host, service } = hp;
  let conn: NetClient | null = null;

  const disconnect = () => {
    conn?.close();
    conn = null;
  };

  async function once(key: string): Promise<Lookup | { again: string }> {
    if (!conn?.usable) {
      disconnect();
      const ep = await resolveEndpoint(host, service);
      if (typeof ep === 'string') {
        msg.warn(`host or service ${name} not found: ${ep}`);
        msg.warn(`connect to TCP map ${name}: Cannot assign requested address`);
        return { again: 'Cannot assign requested address' };
      }
      try {
        conn = await NetClient.connect(ep, TCP_LIMITS.timeoutMs);
      } catch (e) {
        msg.warn(`connect to TCP map ${name}: ${strerror(e)}`);
        return { again: strerror(e) };
      }
    }
    const r = await conn.exchange(Buffer.from(`get ${encodeTcp(key)}\n`), replyLine, TCP_LIMITS.timeoutMs);
    if ('failure' in r) {
      const why =
        r.failure === 'toolong'
          ? `text longer than ${TCP_LIMITS.maxReply}`
          : `unexpected EOF (${r.failure === 'timeout' ? 'Connection timed out' : conn.lastError ? strerror(conn.lastError) : EOF_ERRNO})`;
      msg.warn(`read TCP map reply from ${name}: ${why}`);
      disconnect();
      return { again: r.failure === 'timeout' ? 'Connection timed out' : EOF_ERRNO };
    }
    const line = r.value;
    const m = /^([0-9]{3}) (.*)$/s.exec(line);
    const text = m ? decodeTcp(m[2]!) : null;
    if (!m || text === null) {
      msg.warn(`read TCP map reply from ${name}: malformed reply: ${printable(line)}`);
      return retry(EOF_ERRNO);
    }
    switch (m[1]![0]) {
      case '2':
        return found(text);
      case '5':
        return NOTFOUND;
      case '4':
        return retry(EOF_ERRNO);
      default:
        msg.warn(`read TCP map reply from ${name}: bad status code: ${printable(line)}`);
        return retry(EOF_ERRNO);
    }
  }

  async function lookup(key: string): Promise<Lookup> {
    let reason = '';
    for (let tries = 1; ; tries++) {
      const r = await once(key);
      if (!('again' in r)) return r;
      reason = r.again;
      if (tries >= TCP_LIMITS.tries) return retry(reason);
      await sleep(TCP_LIMITS.retryDelayMs);
    }
  }

  return serializedDict('tcp', name, lookup, disconnect);
};

/**
 * A network table with one connection: one request at a time, each queued
 * behind the previous, and close() waits for the last before disconnecting.
 */
export function serializedDict(
  type: string,
  name: string,
  lookup: (key: string) => Promise<Lookup>,
  disconnect: () => void,
): Dict {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    type,
    name,
    pattern: true,
    lookup(key) {
      const r = queue.then(() => lookup(key));
      queue = r.catch(() => {});
      return r;
    },
    async close() {
      await queue;
      disconnect();
    },
  };
}
