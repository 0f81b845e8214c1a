/*
 * maillog - the mail log file, as Postfix 3.7 writes maillog_file
 *
 * Line format: "Mon DD HH:MM:SS host syslog_name/service[pid]: text", local
 * time, the day padded with a space (as syslog and ctime do), host being
 * $myhostname up to its first dot. This is what postlogd and postlog write,
 * and what pflogsumm's "traditional" timestamp parser reads.
 *
 * Guarantees of MaillogWriter:
 * - each line is one write(2) on a descriptor opened O_APPEND, so lines from
 *   many processes never interleave or overwrite each other;
 * - the file is opened like Postfix's safe_open: an existing regular file
 *   with one link (never through a symlink), else created exclusively,
 *   mode 0644 less the umask;
 * - "/dev/stdout" and "-" write to standard output (postfix start-fg,
 *   containers), "/dev/stderr" to standard error; as many processes may
 *   share that pipe, a line is cut to PIPE_BUF (4096) bytes there so its
 *   single write stays atomic;
 * - after "postfix logrotate" renames the file, the next line (checked at
 *   most once a second) goes to a fresh file at the old name;
 * - maillog_file must start with one of maillog_file_prefixes.
 * Write errors are reported once through the fallback (stderr), never thrown
 * into the daemon that is logging. Daemons call initDaemonLogging();
 * rotateMaillog() is "postfix logrotate".
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { strerror } from '../util/strerror.js';
import type { MainConfig } from './config.js';
import { type Level, msg, type Sink } from './msg.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** "Nov  5 09:03:07": ctime's month, space-padded day and time, local time zone. */
export function syslogTimestamp(d: Date): string {
  const day = String(d.getDate()).padStart(2, ' ');
  return `${MONTHS[d.getMonth()]} ${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "Nov 25 10:02:17 vm postfix/smtpd[123]: text". */
export function formatLogLine(d: Date, host: string, ident: string, pid: number, text: string): string {
  // One record per line: an embedded newline would forge a second log entry.
  return `${syslogTimestamp(d)} ${host} ${ident}[${pid}]: ${text.replace(/[\r\n]/g, ' ')}`;
}

/** The host field: the first label of $myhostname, as syslog shows it. */
export function logHostName(myhostname: string): string {
  const dot = myhostname.indexOf('.');
  return dot > 0 ? myhostname.slice(0, dot) : myhostname;
}

/** True when maillog_file names standard output rather than a file. */
export function isStdout(path: string): boolean {
  return path === '-' || path === '/dev/stdout';
}

/** The inherited descriptor a path stands for: 1 for "-" and /dev/stdout, 2 for /dev/stderr. */
function standardFd(path: string): number | null {
  if (isStdout(path)) return 1;
  return path === '/dev/stderr' ? 2 : null;
}

/** Null when path is allowed by maillog_file_prefixes, else Postfix's complaint. */
export function checkPrefix(path: string, prefixes: readonly string[]): string | null {
  if (path === '-' || prefixes.some((p) => path.startsWith(p))) return null;
  return `maillog_file value '${path}' does not match any prefix in maillog_file_prefixes`;
}

export class MaillogWriter {
  private fd = -1;
  private ino = 0;
  private lastCheck = 0;
  private failed = false;
  /** Pipes and terminals: a line must fit one atomic write (PIPE_BUF). */
  private capped = false;

  private readonly onError: (text: string) => void;
  private readonly rotateCheckMs: number;

  constructor(
    readonly path: string,
    opts: { onError?: (text: string) => void; rotateCheckMs?: number } = {},
  ) {
    this.onError = opts.onError ?? ((t) => process.stderr.write(`${t}\n`));
    this.rotateCheckMs = opts.rotateCheckMs ?? 1000;
  }

  /** Opens now, so that a bad path stops a daemon at start-up; throws Error with Postfix's text. */
  open(): void {
    const std = standardFd(this.path);
    if (std !== null) {
      this.fd = std;
      this.capped = !fstatSync(std).isFile();
      return;
    }
    this.fd = openAppend(this.path);
    this.ino = fstatSync(this.fd).ino;
    this.lastCheck = Date.now();
  }

  /** Appends one line (a newline is added). */
  write(line: string): void {
    try {
      if (this.fd < 0) this.open();
      else this.reopenIfRotated();
      writeAll(this.fd, this.capped ? capLine(line) : Buffer.from(line + '\n', 'utf8'));
      this.failed = false;
    } catch (e) {
      // Say it once per outage, not once per line.
      if (!this.failed)
        this.onError(
          e instanceof LogfileOpenError ? e.message : `logfile '${this.path}' write error: ${strerror(e)}`,
        );
      this.failed = true;
      this.closeFile();
    }
  }

  close(): void {
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd > 2) closeSync(this.fd);
    this.fd = -1;
  }

  private reopenIfRotated(): void {
    if (this.fd <= 2) return;
    const now = Date.now();
    if (now - this.lastCheck < this.rotateCheckMs) return;
    this.lastCheck = now;
    let ino = -1;
    try {
      ino = statSync(this.path).ino;
    } catch {
      // Renamed away and not yet recreated: create it.
    }
    if (ino !== this.ino) {
      this.closeFile();
      this.open();
    }
  }
}

function openAppend(path: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, O_WRONLY | O_APPEND | O_NOFOLLOW);
      const st = fstatSync(fd);
      if (!st.isFile() || st.nlink !== 1) {
        closeSync(fd);
        throw new LogfileOpenError(`open logfile '${path}': not a regular file with one link`);
      }
      return fd;
    } catch (e) {
      if (e instanceof LogfileOpenError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') throw openError(path, err);
    }
    try {
      return openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0o644);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // Another process created it first: open theirs.
      if (err.code !== 'EEXIST') throw openError(path, err);
    }
  }
  throw new LogfileOpenError(`open logfile '${path}': file keeps changing`);
}

/** "open logfile '/x': No such file or directory", as Postfix words it. */
export class LogfileOpenError extends Error {}

function openError(path: string, err: NodeJS.ErrnoException): Error {
  return new LogfileOpenError(`open logfile '${path}': ${strerror(err)}`);
}

const PIPE_BUF = 4096;

/** The line and its newline in at most PIPE_BUF bytes, cut at a character boundary. */
export function capLine(line: string): Buffer {
  const buf = Buffer.from(line + '\n', 'utf8');
  if (buf.length <= PIPE_BUF) return buf;
  let end = PIPE_BUF - 1;
  // Back off over UTF-8 continuation bytes so no character is split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  const out = Buffer.alloc(end + 1);
  buf.copy(out, 0, 0, end);
  out[end] = 0x0a;
  return out;
}

function writeAll(fd: number, buf: Buffer): void {
  // A regular file takes the whole line in one write; only a pipe (stdout) may take less.
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off);
}

export interface MaillogSinkOptions {
  readonly writer: MaillogWriter;
  /** The first label of $myhostname (logHostName). */
  readonly host: string;
  readonly pid?: number;
  /** Also copy lines to stderr (warnings and worse of a command run by hand). */
  readonly alsoStderr?: (level: Level) => boolean;
  readonly clock?: () => Date;
}

/**
 * A msg sink for daemons: msg's "postfix/smtpd: text" becomes
 * "Nov 25 10:02:17 host postfix/smtpd[pid]: text" in the log file.
 */
export function maillogSink(o: MaillogSinkOptions): Sink {
  const pid = o.pid ?? process.pid;
  const clock = o.clock ?? (() => new Date());
  return (level, line) => {
    const prefix = `${msg.program}: `;
    const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
    o.writer.write(formatLogLine(clock(), o.host, msg.program, pid, text));
    if (o.alsoStderr?.(level)) process.stderr.write(line + '\n');
  };
}

/**
 * Points msg at $maillog_file for a daemon or postlog. Returns null (msg
 * unchanged) when maillog_file is empty, i.e. logging goes to syslog.
 */
export function openMaillog(
  cfg: MainConfig,
  opts: { alsoStderr?: (level: Level) => boolean } = {},
): MaillogWriter | null {
  const path = cfg.get('maillog_file');
  if (path === '') return null;
  const problem = checkPrefix(path, cfg.list('maillog_file_prefixes'));
  if (problem) msg.fatal(problem);
  const writer = new MaillogWriter(path);
  try {
    writer.open();
  } catch (e) {
    msg.fatal((e as Error).message);
  }
  const host = logHostName(cfg.get('myhostname'));
  msg.setSink(maillogSink({ writer, host, ...(opts.alsoStderr ? { alsoStderr: opts.alsoStderr } : {}) }));
  return writer;
}

/** strftime for maillog_file_rotate_suffix: the conversions that make sense in a file name. */
export function strftime(format: string, d: Date): string {
  return format.replace(/%([YmdHMSjyeb%])/g, (_m, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getFullYear());
      case 'y':
        return pad2(d.getFullYear() % 100);
      case 'm':
        return pad2(d.getMonth() + 1);
      case 'd':
        return pad2(d.getDate());
      case 'e':
        return String(d.getDate()).padStart(2, ' ');
      case 'H':
        return pad2(d.getHours());
      case 'M':
        return pad2(d.getMinutes());
      case 'S':
        return pad2(d.getSeconds());
      case 'b':
        return MONTHS[d.getMonth()]!;
      case 'j': {
        const start = new Date(d.getFullYear(), 0, 1);
        const day = Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1;
        return String(day).padStart(3, '0');
      }
      default:
        return '%';
    }
  });
}

/**
 * "postfix logrotate": renames maillog_file to file.SUFFIX (strftime of
 * maillog_file_rotate_suffix), waits for writers to move to a new file
 * (they look at most once a second), then compresses the old one with
 * maillog_file_compressor. Problems stop the program in postfix-script's
 * words. Resolves to the rotated name (before compression).
 */
export async function rotateMaillog(
  cfg: MainConfig,
  opts: { now?: Date; settleMs?: number } = {},
): Promise<string> {
  const names = ['maillog_file', 'maillog_file_compressor', 'maillog_file_rotate_suffix'] as const;
  for (const name of names) {
    if (cfg.get(name) === '') msg.fatal(`empty '${name}' parameter value - logfile rotation failed`);
  }
  const path = cfg.get('maillog_file');
  if (path.startsWith('/dev/')) msg.fatal(`not rotating '${path}'`);
  const rotated = `${path}.${strftime(cfg.get('maillog_file_rotate_suffix'), opts.now ?? new Date())}`;
  try {
    renameSync(path, rotated);
  } catch (e) {
    msg.fatal(`logfile '${path}' rotation failed: rename ${path} to ${rotated}: ${strerror(e)}`);
  }
  await new Promise((r) => setTimeout(r, opts.settleMs ?? 1100));
  const compressor = cfg.get('maillog_file_compressor');
  const problem = await new Promise<string | null>((resolve) => {
    const child = spawn(compressor, [rotated], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve(`${compressor}: ${strerror(e)}`));
    child.on('close', (code) =>
      resolve(code === 0 ? null : err.trim() || `${compressor} exit status ${code}`),
    );
  });
  if (problem !== null) msg.fatal(`logfile '${path}' rotation failed: ${problem}`);
  return rotated;
}

/** The program name in every log line: "$syslog_name/process", e.g. "postfix/submission/smtpd". */
export function mailTask(syslogName: string, processName: string): string {
  const base = processName.slice(processName.lastIndexOf('/') + 1);
  return syslogName === '' ? base : `${syslogName}/${base}`;
}

/**
 * Daemon start-up: msg lines become "postfix/<process>[pid]: ..." in
 * $maillog_file. Without maillog_file (Postfix would use syslog, which
 * Node cannot reach: no UNIX datagram sockets) the same syslog-format
 * lines go to stderr, where master or the service manager collects them.
 */
export function initDaemonLogging(cfg: MainConfig, processName: string): MaillogWriter {
  msg.setProgram(mailTask(cfg.get('syslog_name'), processName));
  const writer = openMaillog(cfg);
  if (writer) return writer;
  const stderr = new MaillogWriter('/dev/stderr');
  const host = logHostName(cfg.get('myhostname'));
  msg.setSink(maillogSink({ writer: stderr, host }));
  return stderr;
}
