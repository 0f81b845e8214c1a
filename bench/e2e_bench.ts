/*
 * e2e_bench - messages per second and CPU per message, end to end, Postroom vs Postfix
 *
 *	npm run bench:e2e -- [-n messages] [-c concurrency] [-u users] [-t seconds] [-s postroom|postfix] [-m virtual|local|mbox] [-d] [-v]
 *	(= npm run build && node dist/bench/e2e_bench.js ...)
 *
 * For each system (Postroom, then Debian's Postfix 3.7 when installed and
 * we are root), in the same run and on the same machine: a private
 * instance in a temporary directory (bench/instance.ts; same main.cf and
 * master.cf for both, fsync before success being the default of both),
 * one warm-up message, then N messages (default 2000) submitted with the
 * system's own sendmail, C at a time (default 8), to u0..u<users-1>@bench.test
 * (default 10), Maildir mailboxes reached through local(8) aliases (-m
 * local, the default) or virtual(8) (-m virtual), or mboxes in
 * mail_spool_directory through local(8), locked as by default (-m mbox;
 * "delivered" = a From_ line there). Measured:
 *
 *	msgs/s		N / (last message delivered - first submission
 *			started); "delivered" = a file in a Maildir new/
 *	system CPU	CPU seconds of every process of the instance over that
 *			window (its control group; bench/cpu.ts), per 1000 msgs
 *	sendmail CPU	CPU seconds of the sendmail processes (and Postfix's
 *			postdrop), per 1000 msgs
 *
 * and prints one table, the last column Postroom's figure over Postfix's
 * (msgs/s: above 1 is faster; CPU: below 1 uses less).
 *
 * -d (drain): submit all N while the system is down (sendmail works
 * without daemons), then time from `postfix start` to the last delivery:
 * the mail system's own throughput, without sendmail's start-up cost on
 * the clock. -v: CPU seconds per program of the instance at the end. Bounded: N, C and
 * users are capped, each phase has a time limit (-t, default 600 s); an
 * instance that does not finish is reported with what it delivered. All
 * processes are killed (by pid, from the instance's control group) and
 * the temporary directories removed, also on ^C.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childrenCpu } from './cpu.js';
import {
  type Instance,
  type MailboxMode,
  makeInstance,
  postfixInstalled,
  type SystemName,
} from './instance.js';

interface Options {
  messages: number;
  concurrency: number;
  users: number;
  seconds: number;
  systems: SystemName[];
  mode: MailboxMode;
  drain: boolean;
  verbose: boolean;
}

function usage(text: string): never {
  process.stderr.write(
    `e2e_bench: ${text}\nusage: node dist/bench/e2e_bench.js [-n messages] [-c concurrency] [-u users] [-t seconds] [-s postroom|postfix] [-m virtual|local|mbox] [-d] [-v]\n`,
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    messages: 2000,
    concurrency: 8,
    users: 10,
    seconds: 600,
    systems: ['postroom', 'postfix'],
    mode: 'local',
    drain: false,
    verbose: false,
  };
  const limits: Record<string, [keyof Options, number]> = {
    '-n': ['messages', 100_000],
    '-c': ['concurrency', 256],
    '-u': ['users', 1000],
    '-t': ['seconds', 3600],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    if (flag === '-d' || flag === '-v') {
      o[flag === '-d' ? 'drain' : 'verbose'] = true;
      i--;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) usage(`${flag}: missing value`);
    if (flag === '-m') {
      if (value !== 'virtual' && value !== 'local' && value !== 'mbox')
        usage(`-m: unknown mailbox mode ${value}`);
      o.mode = value;
      continue;
    }
    if (flag === '-s') {
      if (value !== 'postroom' && value !== 'postfix') usage(`-s: unknown system ${value}`);
      o.systems = [value];
      continue;
    }
    const spec = limits[flag];
    if (!spec) usage(`unknown option ${flag}`);
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > spec[1])
      usage(`${flag}: not a number from 1 to ${spec[1]}: ${value}`);
    (o as unknown as Record<string, number>)[spec[0]] = n;
  }
  return o;
}

interface Result {
  system: SystemName;
  messages: number;
  delivered: number;
  failed: number;
  seconds: number;
  submitSeconds: number;
  systemCpu: number;
  sendmailCpu: number;
  cpuMethod: string;
  timedOut: boolean;
}

/** Messages in the Maildir new/ directories of all users (or in the mboxes). */
function delivered(inst: Instance): number {
  let n = 0;
  if (inst.mboxes.length > 0) {
    for (const box of inst.mboxes) {
      try {
        const text = readFileSync(box, 'latin1');
        if (text.startsWith('From ')) n++;
        for (let at = text.indexOf('\nFrom '); at >= 0; at = text.indexOf('\nFrom ', at + 1)) n++;
      } catch {
        // Not created yet.
      }
    }
    return n;
  }
  for (let i = 0; i < inst.users; i++) {
    try {
      n += readdirSync(join(inst.vmail, `u${i}`, 'Maildir', 'new')).length;
    } catch {
      // Not created yet.
    }
  }
  return n;
}

function message(i: number): string {
  return `From: bench@mx.example.com\nSubject: bench ${i}\n\n${'The quick brown fox jumps over the lazy dog.\n'.repeat(20)}`;
}

let complaints = 0;

/**
 * One sendmail process: resolves true when it exits 0. Its stderr is shown
 * only when it fails (Postfix's postdrop warns on every call while pickup
 * is down), and only for the first few failures.
 */
function submit(inst: Instance, i: number, deadline: number): Promise<boolean> {
  const [cmd, ...pre] = inst.sendmail as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, '-f', 'bench@mx.example.com', `u${i % inst.users}@bench.test`], {
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: Math.max(1000, deadline - Date.now()),
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString();
    });
    child.on('error', () => resolve(false));
    child.on('close', (code) => {
      if (code !== 0 && complaints++ < 5)
        process.stderr.write(`${inst.system} sendmail exit ${code}: ${err}`);
      resolve(code === 0);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(message(i));
  });
}

async function waitDelivered(inst: Instance, want: number, deadline: number): Promise<boolean> {
  while (delivered(inst) < want) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Submit messages 1..N, C at a time: how many failed, seconds, sendmail CPU seconds. */
async function submitAll(inst: Instance, o: Options, deadline: number) {
  const sub0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < o.messages && Date.now() < deadline) {
      const i = next++;
      if (!(await submit(inst, i + 1, deadline))) failed++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: childrenCpu() - sub0 };
}

async function benchOne(system: SystemName, o: Options, live: Set<Instance>): Promise<Result> {
  const inst = makeInstance(system, o.users, o.mode);
  live.add(inst);
  try {
    let sub: Awaited<ReturnType<typeof submitAll>>;
    let cpu0: number;
    let t0: bigint;
    let deadline: number;
    let warm = 0;
    if (o.drain) {
      // Everything waits in maildrop first; the clock runs from "postfix start".
      sub = await submitAll(inst, o, Date.now() + o.seconds * 1000);
      deadline = Date.now() + o.seconds * 1000;
      cpu0 = inst.cpu();
      t0 = process.hrtime.bigint();
      await inst.start();
    } else {
      await inst.start();
      // The warm-up message starts the daemons that start on demand.
      const w = Date.now() + 60_000;
      if (!(await submit(inst, 0, w)) || !(await waitDelivered(inst, 1, w)))
        throw new Error(
          `${system}: the warm-up message was not delivered within 60 s (see ${inst.dir}/maillog)`,
        );
      warm = 1;
      deadline = Date.now() + o.seconds * 1000;
      cpu0 = inst.cpu();
      t0 = process.hrtime.bigint();
      sub = await submitAll(inst, o, deadline);
    }
    const ok = await waitDelivered(inst, warm + o.messages - sub.failed, deadline);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const systemCpu = inst.cpu() - cpu0;
    if (o.verbose) {
      const rows = [...inst.breakdown()].sort((a, b) => b[1] - a[1]);
      for (const [label, cpu] of rows)
        process.stdout.write(`  ${system} CPU since start: ${fmt(cpu)} s ${label}\n`);
    }
    return {
      system,
      messages: o.messages,
      delivered: delivered(inst) - warm,
      failed: sub.failed,
      seconds,
      submitSeconds: sub.seconds,
      systemCpu,
      sendmailCpu: sub.cpu,
      cpuMethod: inst.cpuMethod,
      timedOut: !ok,
    };
  } finally {
    live.delete(inst);
    await inst.stop();
  }
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function table(results: Result[]): string {
  const rows: string[][] = [
    ['system', 'msgs', 'seconds', 'msgs/s', 'system CPU s/1000', 'sendmail CPU s/1000', 'failed'],
  ];
  for (const r of results)
    rows.push([
      r.system + (r.timedOut ? ' (TIMED OUT)' : ''),
      `${r.delivered}/${r.messages}`,
      fmt(r.seconds),
      fmt(r.delivered / r.seconds, 1),
      fmt((r.systemCpu / r.delivered) * 1000),
      fmt((r.sendmailCpu / r.messages) * 1000),
      String(r.failed),
    ]);
  const ours = results.find((r) => r.system === 'postroom');
  const theirs = results.find((r) => r.system === 'postfix');
  if (ours && theirs) {
    const rate = (r: Result) => r.delivered / r.seconds;
    const per = (cpu: number, n: number) => cpu / n;
    rows.push([
      'ratio postroom/postfix',
      '',
      '',
      fmt(rate(ours) / rate(theirs)),
      fmt(per(ours.systemCpu, ours.delivered) / per(theirs.systemCpu, theirs.delivered)),
      fmt(per(ours.sendmailCpu, ours.messages) / per(theirs.sendmailCpu, theirs.messages)),
      '',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const live = new Set<Instance>();
  const cleanup = async () => {
    for (const inst of live) await inst.stop();
    process.exit(130);
  };
  process.on('SIGINT', () => void cleanup());
  process.on('SIGTERM', () => void cleanup());

  const systems = o.systems.filter((s) => {
    if (s !== 'postfix') return true;
    if (!postfixInstalled()) {
      console.log('Postfix is not installed (/usr/sbin/postfix): the comparison is skipped.');
      return false;
    }
    if (process.getuid?.() !== 0) {
      console.log('A private Postfix instance needs root: the comparison is skipped.');
      return false;
    }
    return true;
  });
  console.log(
    `${o.messages} messages, ${o.concurrency} concurrent sendmail processes, ${o.users} Maildir users (${o.mode}), limit ${o.seconds} s`,
  );
  const results: Result[] = [];
  for (const s of systems) {
    process.stdout.write(`${s}: running...\n`);
    const r = await benchOne(s, o, live);
    process.stdout.write(
      `${s}: ${r.delivered} delivered in ${fmt(r.seconds)} s (submission took ${fmt(r.submitSeconds)} s), CPU by ${r.cpuMethod}\n`,
    );
    results.push(r);
  }
  console.log(`\n${table(results)}`);
  if (results.some((r) => r.timedOut || r.failed > 0)) process.exitCode = 1;
}

await main();
