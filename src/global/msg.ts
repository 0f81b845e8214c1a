/*
 * msg - Postfix-style diagnostics
 *
 * Five levels as in Postfix's msg(3): info, warning, error, fatal, panic. A
 * command-line tool writes "postconf: warning: text" to stderr; a daemon
 * (later issues) routes the same lines to postlogd with a "postfix/smtpd[pid]: "
 * prefix. fatal() and panic() never return: they exit 1 (panic aborts)
 * after the line is written, so no caller can go on past an invariant.
 * error() counts; after 13 errors Postfix gives up, and so do we.
 */

export type Level = 'info' | 'warning' | 'error' | 'fatal' | 'panic';
export type Sink = (level: Level, line: string) => void;

const MAX_ERRORS = 13;

/** Thrown by fatal() when exits are disabled (tests that run a CLI in-process). */
export class FatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

let program = 'postroom';
let verbose = 0;
let errorCount = 0;
let exitOnFatal = true;

const stderrSink: Sink = (_level, line) => {
  // Bytes that were not UTF-8 travel as lone surrogates (src/maps/bytes.ts); Postfix logs them as "?".
  process.stderr.write(line.replace(/[\uDC80-\uDCFF]/gu, '?') + '\n');
};
let sink: Sink = stderrSink;

export const msg = {
  /** The name shown before every line, e.g. "postmap" or "postfix/smtpd". */
  setProgram(name: string): void {
    program = name;
  },
  get program(): string {
    return program;
  },
  setSink(s: Sink | null): void {
    sink = s ?? stderrSink;
  },
  /** In-process callers (tests, a CLI calling another) get FatalError instead of exit. */
  setExitOnFatal(on: boolean): void {
    exitOnFatal = on;
  },
  /** -v increments; msg.verbose > 0 enables debug lines. */
  get verbose(): number {
    return verbose;
  },
  setVerbose(n: number): void {
    verbose = n;
  },
  info(text: string): void {
    sink('info', `${program}: ${text}`);
  },
  debug(text: string): void {
    if (verbose > 0) sink('info', `${program}: ${text}`);
  },
  warn(text: string): void {
    sink('warning', `${program}: warning: ${text}`);
  },
  error(text: string): void {
    sink('error', `${program}: error: ${text}`);
    if (++errorCount >= MAX_ERRORS) msg.fatal('too many errors - program terminated');
  },
  fatal(text: string, exitCode = 1): never {
    sink('fatal', `${program}: fatal: ${text}`);
    if (exitOnFatal) process.exit(exitCode);
    throw new FatalError(text, exitCode);
  },
  panic(text: string): never {
    sink('panic', `${program}: panic: ${text}`);
    if (exitOnFatal) process.abort();
    throw new FatalError(text, 2);
  },
};

/** Network or file text in a log line: clipped, control characters made visible. */
export function clip(text: string, max = 100): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '...' : clean;
}
