/*
 * Golden files for trivial-rewrite: how to lay out a case on disk, how to
 * ask Postfix's trivial-rewrite (stand-alone, -S, one request a process:
 * it answers only one) and how to ask ours (one process for all
 * requests, as a client of the service would).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, ROOT, run } from '../harness/index.js';
import { BASE, type Case, type Request } from './cases.js';

export const GOLDEN_FILE = join(GOLDEN, 'trivial-rewrite', 'golden.json');
export const POSTFIX_TRIVIAL_REWRITE = '/usr/lib/postfix/sbin/trivial-rewrite';

/** Per case: each request's reply, as the list of its null-terminated strings. */
export type Golden = Record<string, string[][]>;

export function loadGolden(): Golden {
  return JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Golden;
}

/** Write main.cf and the case's tables under dir; return the config directory. */
export function layOut(c: Case, dir: string): string {
  const sub = (text: string) => text.replaceAll('%DIR%', dir);
  mkdirSync(join(dir, 'queue'), { recursive: true });
  for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), sub(text));
  const mainCf = join(dir, 'main.cf');
  writeFileSync(mainCf, sub(`${BASE}\n${c.main}\n`));
  // Postfix pauses when main.cf is younger than a second.
  const past = new Date(Date.now() - 3600_000);
  utimesSync(mainCf, past, past);
  return dir;
}

export function encodeRequest(r: Request): Buffer {
  const pairs: [string, string][] =
    r.op === 'rewrite'
      ? [
          ['request', 'rewrite'],
          ['rule', r.rule],
          ['address', r.address],
        ]
      : [
          ['request', r.op],
          ['sender', r.sender],
          ['address', r.address],
        ];
  return Buffer.concat([...pairs.map(([n, v]) => Buffer.from(`${n}\0${v}\0`)), Buffer.from([0])]);
}

/** Split a stream of replies into replies, each a list of strings. */
export function decodeReplies(out: Buffer): string[][] {
  const replies: string[][] = [];
  let cur: string[] = [];
  let pos = 0;
  while (pos < out.length) {
    const end = out.indexOf(0, pos);
    if (end < 0) break;
    if (end === pos && cur.length % 2 === 0) {
      replies.push(cur);
      cur = [];
    } else cur.push(out.toString('utf8', pos, end));
    pos = end + 1;
  }
  return replies;
}

function runPostfixOne(confDir: string, req: Request): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(POSTFIX_TRIVIAL_REWRITE, ['-S', '-c'], {
      env: { ...process.env, MAIL_CONFIG: confDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.on('error', reject);
    p.on('close', () => resolve(decodeReplies(Buffer.concat(chunks))[0] ?? ['(no reply)']));
    p.stdin.end(encodeRequest(req));
  });
}

/** Postfix's replies to a case's requests (needs root: the daemon drops privileges). */
export async function runPostfix(c: Case, confDir: string): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < c.requests.length; i += 16) {
    out.push(...(await Promise.all(c.requests.slice(i, i + 16).map((r) => runPostfixOne(confDir, r)))));
  }
  return out;
}

/** Our replies, from our service run stand-alone as a process. */
export function runOurs(
  c: Case,
  confDir: string,
): { replies: string[][]; stderr: string; status: number | null } {
  const input = Buffer.concat(c.requests.map(encodeRequest));
  const r = run('node', [join(ROOT, 'dist/src/trivial-rewrite/main.js'), '-S'], {
    input,
    env: { MAIL_CONFIG: confDir },
  });
  return { replies: decodeReplies(Buffer.from(r.stdout, 'utf8')), stderr: r.stderr, status: r.status };
}

export const postfixAvailable = () => existsSync(POSTFIX_TRIVIAL_REWRITE) && process.getuid?.() === 0;
