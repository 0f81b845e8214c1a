/*
 * command - deliver a message to a shell command, as local(8) does
 *
 * The command gets the message on standard input (From_ line, delivery
 * headers, content), runs with the recipient's uid/gid (when we are root),
 * a reset environment (PATH, export_environment, the message variables
 * below, values cleaned with command_expansion_filter) and a time limit
 * (command_time_limit; the whole process group is killed). /bin/sh -c
 * runs it when it has shell syntax in it; local_command_shell, when set
 * (a program and its arguments), runs every command.
 *
 * Outcome, as Postfix's: exit 0 delivered; a sysexits.h code gives its
 * status and text (EX_TEMPFAIL and EX_OSERR defer, the others bounce);
 * another code bounces "Command died with status N: "cmd""; a signal
 * defers; the time limit bounces; output that starts with an enhanced
 * status code (X.Y.Z) overrides the exit status.
 * Some output is kept for the reason text ("... Command output: ...").
 */

import { spawn } from 'node:child_process';
import { fromLine } from '../global/mbox.js';
import { msg } from '../global/msg.js';
import { chunks, type MessageSource } from './mailbox_copy.js';
import type { Privs } from './user_ops.js';

export interface CommandJob {
  readonly command: string;
  readonly shell: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly privs: Privs | undefined;
  readonly timeLimitSec: number;
  readonly sender: string;
  readonly prefix: string;
  readonly content: MessageSource;
}

export interface CommandResult {
  readonly kind: 'sent' | 'bounce' | 'defer';
  readonly status: string;
  readonly reason: string;
}

/** sysexits.h codes: enhanced status and text, as Postfix reports them. */
const SYSEXITS: Readonly<Record<number, readonly [string, string]>> = {
  64: ['5.3.0', 'command line usage error'],
  65: ['5.6.0', 'data format error'],
  66: ['5.3.0', 'cannot open input'],
  67: ['5.1.1', 'user unknown'],
  68: ['5.1.2', 'host name unknown'],
  69: ['5.3.0', 'service unavailable'],
  70: ['5.3.0', 'internal software error'],
  71: ['4.3.0', 'system resource problem'],
  72: ['5.3.0', 'critical OS file missing'],
  73: ['5.2.0', "can't create user output file"],
  74: ['5.3.0', 'input/output error'],
  75: ['4.3.0', 'temporary failure'],
  76: ['5.5.0', 'remote error in protocol'],
  77: ['5.7.0', 'permission denied'],
  78: ['5.3.5', 'local configuration error'],
};

const OUTPUT_LIMIT = 2048;
const SHELL_MAGIC = /[|&;<>()$`\\"'*?[#~=%\n\t]|^\s*(exit|echo|test|\.|:|exec|cd|read|export|set)\b/u;

/** Output as it goes into a reason: control characters become spaces. */
function printable(s: string): string {
  return s.replace(/[\0-\x1f\x7f]/gu, ' ');
}

function kind(status: string): 'bounce' | 'defer' {
  return status.startsWith('4') ? 'defer' : 'bounce';
}

export function deliverCommand(job: CommandJob): Promise<CommandResult> {
  // local_command_shell ("/some/where/smrsh -c") takes every command;
  // otherwise /bin/sh only when the command needs a shell.
  const shell = job.shell
    .trim()
    .split(/\s+/u)
    .filter((w) => w !== '');
  const argv =
    shell.length > 0
      ? [...shell, job.command]
      : SHELL_MAGIC.test(job.command)
        ? ['/bin/sh', '-c', job.command]
        : job.command.trim().split(/\s+/u);
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(file, args, {
      cwd: job.cwd,
      env: job.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(job.privs ? { uid: job.privs.uid, gid: job.privs.gid } : {}),
    });
    const keep = (d: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += d.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, job.timeLimitSec * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({
        kind: 'defer',
        status: '4.3.0',
        reason: `cannot execute command "${job.command}": ${e.message}`,
      });
    });
    void (async () => {
      const write = (b: Uint8Array | string) =>
        new Promise<void>((res) => (child.stdin.write(b) ? res() : child.stdin.once('drain', res)));
      try {
        await write(fromLine(job.sender, new Date()) + job.prefix);
        for await (const c of chunks(job.content)) {
          if (child.stdin.destroyed) break;
          await write(c);
        }
      } catch {
        // The command need not read its input.
      }
      child.stdin.end();
    })();
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const out = printable(output);
      const tail = out === '' ? '' : `. Command output: ${out}`;
      if (timedOut) {
        msg.warn('pipe_command_read: read time limit exceeded');
        resolve({
          kind: 'bounce',
          status: '5.3.0',
          reason: `Command time limit exceeded: "${job.command}"${tail}`,
        });
        return;
      }
      if (code === 0) {
        resolve({ kind: 'sent', status: '2.0.0', reason: `delivered to command: ${job.command}` });
        return;
      }
      const dsn = /^([45])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)/u.exec(out);
      if (dsn && code !== null) {
        const status = `${dsn[1]}.${dsn[2]}.${dsn[3]}`;
        resolve({ kind: kind(status), status, reason: out.slice(dsn[0].length) });
        return;
      }
      if (signal !== null || code === null) {
        resolve({
          kind: 'defer',
          status: '4.3.0',
          reason: `Command died with signal ${signalNumber(signal)}: "${job.command}"${tail}`,
        });
        return;
      }
      const sx = SYSEXITS[code];
      if (sx) {
        resolve({ kind: kind(sx[0]), status: sx[0], reason: `${sx[1]}${tail}` });
        return;
      }
      resolve({
        kind: 'bounce',
        status: '5.3.0',
        reason: `Command died with status ${code}: "${job.command}"${tail}`,
      });
    });
  });
}

const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function signalNumber(s: NodeJS.Signals | null): number {
  return s === null ? 0 : (SIGNALS[s] ?? 0);
}
