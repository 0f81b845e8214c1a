/*
 * Scripted tcp_table(5) and socketmap_table(5) servers on 127.0.0.1 (random
 * port) for the network table tests, and the golden cases they replay:
 * each case lists the replies the server sends, one per request ("CLOSE"
 * drops the connection instead, "HANG" never answers); the golden file
 * holds what Postfix's postmap printed and which requests it sent.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Run } from '../../harness/index.js';

export type Protocol = 'tcp' | 'socketmap';

export interface NetCaseSpec {
  readonly name: string;
  readonly protocol: Protocol;
  readonly key: string;
  readonly replies: readonly string[];
  /** Table name with $PORT for the server's port; default per protocol. */
  readonly table?: string;
}

export interface NetCase extends NetCaseSpec {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  readonly requests: readonly string[];
}

export const defaultTable = (p: Protocol) =>
  p === 'tcp' ? 'tcp:127.0.0.1:$PORT' : 'socketmap:inet:127.0.0.1:$PORT:mymap';

export interface ScriptedServer {
  readonly port: number;
  readonly requests: string[];
  close(): Promise<void>;
}

/** A server answering each request (a line, or a netstring) with the next scripted reply. */
export async function scriptedServer(
  protocol: Protocol,
  replies: readonly string[],
  path?: string,
): Promise<ScriptedServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let n = 0;
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let request: Buffer;
        if (protocol === 'tcp') {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) return;
          request = buf.subarray(0, nl + 1);
        } else {
          const m = /^([0-9]+):/.exec(buf.toString('latin1'));
          if (!m) return;
          const end = m[0].length + Number(m[1]) + 1;
          if (buf.length < end) return;
          request = buf.subarray(0, end);
        }
        buf = buf.subarray(request.length);
        requests.push(request.toString('latin1'));
        const r = replies[Math.min(n++, replies.length - 1)] ?? 'CLOSE';
        if (r === 'CLOSE') {
          s.destroy();
          return;
        }
        if (r !== 'HANG') s.write(Buffer.from(r, 'latin1'));
      }
    });
  });
  if (path) server.listen(path);
  else server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const addr = s.address();
  s.close();
  await once(s, 'close');
  return typeof addr === 'object' && addr ? addr.port : 0;
}

/** Run a command without blocking the event loop (our servers live in this process). */
export function runAsync(
  cmd: string,
  args: readonly string[],
  input = '',
  env: NodeJS.ProcessEnv = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const status = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        if (err && status === null && !err.killed) reject(err);
        else resolve({ stdout, stderr, status });
      },
    );
    // A command that exits without reading its input is not an error here.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Run postmap -q KEY TABLE against a fresh scripted server. */
export async function runCase(
  postmap: string,
  conf: string,
  c: NetCaseSpec,
): Promise<{ stdout: string; stderr: string; status: number | null; requests: string[] }> {
  const server = c.replies.length === 0 ? null : await scriptedServer(c.protocol, c.replies);
  const port = server ? server.port : await deadPort();
  try {
    const table = (c.table ?? defaultTable(c.protocol)).split('$PORT').join(String(port));
    const r = await runAsync(postmap, ['-c', conf, '-q', c.key, table]);
    const out = (s: string) => s.split(String(port)).join('$PORT');
    return {
      stdout: out(r.stdout),
      stderr: out(r.stderr),
      status: r.status,
      requests: server?.requests ?? [],
    };
  } finally {
    await server?.close();
  }
}

const NL = '\n';
const ns = (s: string) => `${Buffer.byteLength(s)}:${s},`;

/** The cases; "replies: []" means no server at all (connection refused). */
export const NET_CASES: NetCaseSpec[] = [
  { name: 'found, decoded', protocol: 'tcp', key: 'k', replies: [`200 hello%20World%2cx${NL}`] },
  { name: 'request encoding', protocol: 'tcp', key: 'K\x01b\x7fc~d\teé%/+@', replies: [`200 x${NL}`] },
  { name: 'not found', protocol: 'tcp', key: 'k', replies: [`500 not%20found${NL}`] },
  { name: 'other 5xx not found', protocol: 'tcp', key: 'k', replies: [`599 x${NL}`] },
  { name: 'other 2xx found', protocol: 'tcp', key: 'k', replies: [`299 x${NL}`] },
  { name: 'temporary error', protocol: 'tcp', key: 'k', replies: [`400 try%20later${NL}`] },
  { name: 'bad status', protocol: 'tcp', key: 'k', replies: [`600 what${NL}`] },
  { name: 'status 100', protocol: 'tcp', key: 'k', replies: [`100 x${NL}`] },
  { name: 'malformed', protocol: 'tcp', key: 'k', replies: [`abc${NL}`] },
  { name: 'no text', protocol: 'tcp', key: 'k', replies: [`200${NL}`] },
  { name: 'two spaces', protocol: 'tcp', key: 'k', replies: [`200  two${NL}`] },
  { name: 'leading space', protocol: 'tcp', key: 'k', replies: [` 200 x${NL}`] },
  { name: 'four digits', protocol: 'tcp', key: 'k', replies: [`2000 x${NL}`] },
  { name: 'bad escapes', protocol: 'tcp', key: 'k', replies: [`200 a%41%4a%4A%${NL}`] },
  { name: 'bad escape and control char', protocol: 'tcp', key: 'k', replies: [`200 x%zz\x01${NL}`] },
  { name: 'encoded newline', protocol: 'tcp', key: 'k', replies: [`200 a%0ab${NL}`] },
  { name: 'CR kept', protocol: 'tcp', key: 'k', replies: [`200 a\r${NL}`] },
  { name: 'reconnect after a close', protocol: 'tcp', key: 'k', replies: ['CLOSE', `200 second${NL}`] },
  {
    name: 'reply too long, then retry',
    protocol: 'tcp',
    key: 'k',
    replies: [`200 ${'a'.repeat(5000)}${NL}`, `200 short${NL}`],
  },
  { name: 'server closes every time', protocol: 'tcp', key: 'k', replies: ['CLOSE'] },
  { name: 'server down', protocol: 'tcp', key: 'k', replies: [] },
  { name: 'no port', protocol: 'tcp', key: 'k', replies: [`200 x${NL}`], table: 'tcp:127.0.0.1' },
  { name: 'found', protocol: 'socketmap', key: 'Ké y', replies: [ns('OK hello world')] },
  { name: 'OK without space', protocol: 'socketmap', key: 'k', replies: [ns('OK')] },
  { name: 'not found', protocol: 'socketmap', key: 'k', replies: [ns('NOTFOUND ')] },
  { name: 'NOTFOUND without space', protocol: 'socketmap', key: 'k', replies: [ns('NOTFOUND')] },
  { name: 'TEMP', protocol: 'socketmap', key: 'k', replies: [ns('TEMP busy')] },
  { name: 'TEMP without reason', protocol: 'socketmap', key: 'k', replies: [ns('TEMP ')] },
  { name: 'TIMEOUT', protocol: 'socketmap', key: 'k', replies: [ns('TIMEOUT slow')] },
  { name: 'PERM', protocol: 'socketmap', key: 'k', replies: [ns('PERM denied')] },
  { name: 'PERM alone', protocol: 'socketmap', key: 'k', replies: [ns('PERM')] },
  { name: 'unknown status', protocol: 'socketmap', key: 'k', replies: [ns('ok lower')] },
  { name: 'OKx', protocol: 'socketmap', key: 'k', replies: [ns('OKx')] },
  { name: 'bad terminator', protocol: 'socketmap', key: 'k', replies: ['4:OK x;'] },
  { name: 'bad length', protocol: 'socketmap', key: 'k', replies: ['x:OK x,'] },
  { name: 'leading zeros in length', protocol: 'socketmap', key: 'k', replies: ['04:OK x,'] },
  { name: 'too long', protocol: 'socketmap', key: 'k', replies: [ns(`OK ${'a'.repeat(100000)}`)] },
  {
    name: 'reconnect once after a close',
    protocol: 'socketmap',
    key: 'k',
    replies: ['CLOSE', ns('OK second')],
  },
  { name: 'closes every time', protocol: 'socketmap', key: 'k', replies: ['CLOSE'] },
  { name: 'server down', protocol: 'socketmap', key: 'k', replies: [] },
  { name: 'no map name', protocol: 'socketmap', key: 'k', replies: [ns('OK x')], table: 'socketmap:m' },
  {
    name: 'bad transport',
    protocol: 'socketmap',
    key: 'k',
    replies: [ns('OK x')],
    table: 'socketmap:foo:bar:m',
  },
  {
    name: 'unix socket missing',
    protocol: 'socketmap',
    key: 'k',
    replies: [ns('OK x')],
    table: 'socketmap:unix:/nonexistent/postroom.sock:m',
  },
];
