/*
 * socketmap - Sendmail-style socketmap client, socketmap_table(5)
 *
 * "socketmap:inet:host:port:name" or "socketmap:unix:/path:name". Each
 * lookup sends the netstring "name key" and reads one netstring reply of
 * at most 100000 bytes: "OK value" found, "NOTFOUND " not found, "TEMP",
 * "TIMEOUT" or "PERM" with an optional reason an error (logged; the lookup
 * answers retry: even PERM, which Postfix treats as a configuration error
 * and defers too). Keys are not folded.
 *
 * A dropped connection is reopened and the request sent once more; a
 * second failure, a refused connection, a malformed or oversized reply, or
 * the time limit (100 s) gives retry with Postfix's warning. Requests on
 * one table go one at a time over one connection. No sequence.
 */
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { DictOpenError, type DictOpener, found, type Lookup, NOTFOUND, retry } from './dict.js';
import { type Endpoint, NetClient, resolveEndpoint, serializedDict, splitHostPort } from './tcp.js';

/** Postfix's limits; tests shorten them. */
export const SOCKETMAP_LIMITS = { timeoutMs: 100_000, maxReply: 100_000 };

/** Parse one netstring "len:bytes," from the buffer. */
export function netstring(buf: Buffer, max: number): { value: Buffer; used: number } | null | string {
  const colon = buf.indexOf(0x3a);
  const digits = buf.subarray(0, colon < 0 ? buf.length : colon).toString('latin1');
  if (!/^[0-9]*$/.test(digits)) return 'input format error';
  if (colon < 0) return digits.length > 10 ? 'input exceeds size limit' : null;
  if (digits === '') return 'input format error';
  const len = Number(digits);
  if (len > max) return 'input exceeds size limit';
  const end = colon + 1 + len;
  if (buf.length <= end) return null;
  if (buf[end] !== 0x2c) return 'input format error';
  return { value: buf.subarray(colon + 1, end), used: end + 1 };
}

const encodeNetstring = (text: string): Buffer => {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
};

/** "inet:host:port:map" / "unix:path:map" -> where to connect and the map name. */
function parseName(name: string): { where: string; endpoint: () => Promise<Endpoint | string>; map: string } {
  const spec = `socketmap:${name}`;
  const colon = name.lastIndexOf(':');
  if (colon < 0) throw new DictOpenError(spec, 'socketmap requires server:socketmap argument');
  const server = name.slice(0, colon);
  const map = name.slice(colon + 1);
  const sep = server.indexOf(':');
  const transport = sep < 0 ? server : server.slice(0, sep);
  const rest = sep < 0 ? '' : server.slice(sep + 1);
  if (transport === 'unix') return { where: rest, endpoint: async () => ({ path: rest }), map };
  if (transport !== 'inet') {
    throw new DictOpenError(spec, `invalid transport name: ${transport} in service: ${server}`);
  }
  const hp = splitHostPort(rest);
  if (typeof hp === 'string') throw new DictOpenError(spec, hp);
  return { where: rest, endpoint: () => resolveEndpoint(hp.host, hp.service), map };
}

export const openDict: DictOpener = async (name) => {
  const label = `socketmap:${name}`;
  const { where, endpoint, map } = parseName(name);
  let conn: NetClient | null = null;
  const disconnect = () => {
    conn?.close();
    conn = null;
  };
  const parse = (buf: Buffer) => netstring(buf, SOCKETMAP_LIMITS.maxReply);

  async function lookup(key: string): Promise<Lookup> {
    const request = encodeNetstring(`${map} ${key}`);
    let reply: Buffer | null = null;
    // A server may close an idle connection: reconnect and resend once, quietly.
    for (let attempt = 1; reply === null; attempt++) {
      if (!conn?.usable) {
        disconnect();
        const ep = await endpoint();
        try {
          if (typeof ep === 'string') throw new Error(ep);
          conn = await NetClient.connect(ep, SOCKETMAP_LIMITS.timeoutMs);
        } catch (e) {
          msg.warn(`connect to ${where}: ${strerror(e)}`);
          msg.warn(`table ${label} lookup error: ${strerror(e)}`);
          return retry(strerror(e));
        }
      }
      const r = await conn.exchange(request, parse, SOCKETMAP_LIMITS.timeoutMs);
      if ('value' in r) {
        reply = r.value;
        break;
      }
      const why =
        r.failure === 'eof'
          ? 'unexpected disconnect'
          : r.failure === 'timeout'
            ? 'time limit exceeded'
            : r.failure;
      const errno = conn.lastError ? strerror(conn.lastError) : 'Operation now in progress';
      disconnect();
      if (r.failure === 'eof' && attempt === 1) continue;
      msg.warn(`table ${label} lookup error: ${why}`);
      return retry(errno);
    }
    const text = reply.toString('utf8');
    const space = text.indexOf(' ');
    const status = space < 0 ? text : text.slice(0, space);
    const payload = space < 0 ? null : text.slice(space + 1);
    const reason = payload ? `: ${payload}` : '';
    switch (status) {
      case 'OK':
        // "OK" without a space carries no value at all: Postfix takes it as not found.
        return payload === null ? NOTFOUND : found(payload);
      case 'NOTFOUND':
        return NOTFOUND;
      case 'TEMP':
        msg.warn(`${label} socketmap server temporary error${reason}`);
        return retry('Operation now in progress');
      case 'TIMEOUT':
        msg.warn(`${label} socketmap server timeout error${reason}`);
        return retry('Operation now in progress');
      case 'PERM':
        msg.warn(`${label} socketmap server permanent error${reason}`);
        return retry('');
      default:
        msg.warn(`${label} socketmap server unknown error${reason}`);
        return retry('Operation now in progress');
    }
  }

  return serializedDict('socketmap', name, lookup, disconnect);
};
