/*
 * NAME
 *	qshape - print the domain and age distribution of the mail queue
 * SYNOPSIS
 *	qshape [-s] [-p] [-m min_subdomains] [-l] [-b bucket_count]
 *		[-t bucket_time] [-w terminal_width] [-N batch_msg_count]
 *		[-n batch_top_domains] [-c config_directory] [queue_name ...]
 * DESCRIPTION
 *	Counts the recipients still to deliver (-s: the senders) of every
 *	message in the named queues (default incoming and active; names
 *	are relative to queue_directory unless absolute) by domain and by
 *	age, in Postfix's layout: a heading "T 5 10 20 ... 1280 1280+"
 *	(bucket_time minutes, doubling; -l linear), a TOTAL row, then a row
 *	per domain, most recipients first. -p adds parent domains (".example.com")
 *	that have at least min_subdomains subdomains. -w widens the table
 *	beyond 80 columns; a domain longer than its column is cut from the
 *	left behind a "+". -N and -n (interim results on a terminal) are
 *	accepted; the table is printed once.
 *
 *	Postfix's qshape is a Perl script that reads Postfix queue files; this
 *	one reads Postroom's, with the same arithmetic and layout.
 * DIAGNOSTICS
 *	A bad option or -h: the usage text on stderr, exit 255, as the script.
 */

import { readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { getopt } from '../util/getopt.js';
import { exitQuietlyOnBrokenPipe } from '../util/stdio.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('qshape');
exitQuietlyOnBrokenPipe();

const USAGE = `Usage: qshape [ -s ] [ -p ] [ -m <min_subdomains> ] [ -l ]
\t[ -b <bucket_count> ] [ -t <bucket_time> ] [ -w <terminal_width> ]
\t[ -N <batch_msg_count> ] [ -n <batch_top_domains> ]
\t[ -c <config_directory> ] [ <queue_name> ... ]
-s: count sender domains instead of recipient domains.
-p: also count parent domains (shown as ".example.com") that have at
    least <min_subdomains> (default 5) subdomains in the output.
Ages are in <bucket_time> minutes (default 5), each bucket twice as wide
as the one before; -l makes them equal. <bucket_count> defaults to 10.
Queues default to incoming and active; relative names are under the
queue directory of <config_directory>'s main.cf.
`;

function usage(why: string): never {
  process.stderr.write(`qshape: ${why}\n${USAGE}`);
  process.exit(255);
}

interface Shape {
  readonly buckets: number;
  readonly tick: number;
  readonly linear: boolean;
  readonly parents: boolean;
}

class Counts {
  readonly rows = new Map<string, number[]>();
  readonly subdomains = new Map<string, number>();
  constructor(readonly shape: Shape) {}

  row(name: string): number[] {
    let r = this.rows.get(name);
    if (r === undefined) {
      r = new Array<number>(this.shape.buckets + 1).fill(0);
      this.rows.set(name, r);
    }
    return r;
  }

  /** Which column an arrival time falls in (1 .. buckets). */
  bucket(arrival: number, now: number): number {
    const m = (now - arrival) / (60 * this.shape.tick);
    if (m < 1) return 1;
    const b = this.shape.linear ? Math.trunc(m + 1) : 2 + Math.trunc(Math.log(m) / Math.log(2));
    return Math.min(b, this.shape.buckets);
  }

  add(address: string, b: number): void {
    const total = this.row('TOTAL');
    total[0] = (total[0] ?? 0) + 1;
    total[b] = (total[b] ?? 0) + 1;
    let a = address.toLowerCase();
    if (a === '') a = 'MAILER-DAEMON';
    a = a.replace(/^.*@/, '').replace(/\.\./g, '.');
    a = a.replace(/^\.?(.+?)\.?$/, '$1');
    let isNew = false;
    for (;;) {
      const r = this.row(a);
      const old = (r[0] = (r[0] ?? 0) + 1) > 1;
      r[b] = (r[b] ?? 0) + 1;
      if (isNew) this.subdomains.set(a, (this.subdomains.get(a) ?? 0) + 1);
      isNew = !old;
      if (!this.shape.parents) break;
      const parent = a.replace(/^\.?[^.]+\.(.*\.)/, '.$1');
      if (parent === a) break;
      a = parent;
    }
  }
}

function render(c: Counts, width: number, minSub: number): string {
  const { buckets, tick, linear } = c.shape;
  const total = c.row('TOTAL');
  const heads: string[] = [];
  const widths: number[] = [];
  let dw = width;
  let t: number | string = 0;
  for (let i = 0; i <= buckets; ) {
    let l = String(total[i] ?? 0).length;
    const h = i === 0 ? 'T' : String(t);
    if (h.length >= l) l = h.length;
    l = l > 2 ? l + 1 : 3;
    heads.push(h);
    widths.push(l);
    dw -= l;
    if (++i < buckets) {
      const n: number = Number(t);
      t = n + (n !== 0 && !linear ? n : tick);
    } else {
      t = `${t}+`;
    }
  }
  if (dw < 18) dw = 18;
  const line = (d: string, cells: readonly (string | number)[]): string => {
    const len = d.length;
    let name: string;
    if (len > dw) name = d.startsWith('.') ? `.+${d.slice(len - dw + 2)}` : `+${d.slice(len - dw + 1)}`;
    else name = d.padStart(dw, ' ');
    return name + widths.map((w, i) => String(cells[i] ?? 0).padStart(w, ' ')).join('') + '\n';
  };
  const out = [line('', heads)];
  const names = [...c.rows.keys()].sort((a, b) => {
    const d = (c.rows.get(b)?.[0] ?? 0) - (c.rows.get(a)?.[0] ?? 0);
    return d !== 0 ? d : a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  });
  for (const d of names) {
    if (d.startsWith('.') && (c.subdomains.get(d) ?? 0) < minSub) continue;
    out.push(line(d, c.rows.get(d) ?? []));
  }
  return out.join('');
}

/** Every file under dir whose name looks like a queue file (as the script: 6+ letters or digits). */
async function* files(dir: string): AsyncGenerator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw e;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* files(path);
    else if (e.isFile() && /^[A-Za-z0-9]{6,}$/.test(e.name)) yield path;
  }
}

async function main(): Promise<void> {
  const parsed = getopt(process.argv.slice(2), 'lhc:psw:b:t:m:n:N:');
  if (parsed.kind === 'error') {
    const m = /-- '(.)'/.exec(parsed.message);
    usage(
      parsed.message.startsWith('invalid')
        ? `Unknown option: ${m?.[1] ?? ''}`
        : `Option ${m?.[1] ?? ''} requires an argument`,
    );
  }
  const opt = new Map(parsed.opts.map((o) => [o.opt, o.arg ?? '']));
  if (opt.has('h')) usage('Help message');
  const num = (name: string, def: number, min: number): number => {
    const v = Number.parseInt(opt.get(name) ?? '', 10);
    return opt.has(name) && v > min ? v : def;
  };
  const shape: Shape = {
    buckets: num('b', 10, 0),
    tick: num('t', 5, 0),
    linear: opt.has('l'),
    parents: opt.has('p'),
  };
  const width = num('w', 80, 80);
  const minSub = num('m', 5, 0);
  const queues = parsed.operands.length > 0 ? parsed.operands : ['incoming', 'active'];
  let qdir = '';
  if (queues.some((q) => !isAbsolute(q))) {
    const cfg = loadMainConfig({ configDir: opt.get('c') });
    qdir = cfg.get('queue_directory');
    try {
      await readdir(qdir);
    } catch (e) {
      msg.fatal(`chdir(${qdir}): ${strerror(e)}`);
    }
  }
  const counts = new Counts(shape);
  counts.row('TOTAL');
  const now = Math.floor(Date.now() / 1000);
  for (const q of queues) {
    for await (const path of files(isAbsolute(q) ? q : join(qdir, q))) {
      const r = await openQueueFile(path);
      if (!r.ok) continue;
      try {
        const env = r.file.envelope;
        const pending = r.file.pending;
        if (pending.length === 0) continue;
        const b = counts.bucket(env.arrival.sec, now);
        for (const a of opt.has('s') ? [env.sender] : pending.map((p) => p.address)) counts.add(a, b);
      } finally {
        await r.file.close();
      }
    }
  }
  process.stdout.write(render(counts, width, minSub));
}

main().catch((e: unknown) => msg.fatal(strerror(e)));
