/*
 * postlogd - the logging service for programs that cannot write maillog_file
 *
 * Postfix's postlogd takes log records from programs that lack permission
 * to append to $maillog_file (sendmail, postqueue run by users) and writes
 * them there. Node has no UNIX datagram sockets, so the rendezvous is a FIFO,
 * $queue_directory/public/postlog: a writer opens it without blocking and
 * hands over each line in one write of at most PIPE_BUF bytes, which the
 * kernel keeps whole, like a datagram. No reader (postlogd not running)
 * makes the open fail at once, and the client falls back (client.ts).
 *
 * Guarantees: lines are appended through MaillogWriter (one write each);
 * a line longer than maxLine is cut there and the rest up to its newline
 * dropped, so a hostile writer cannot grow memory; control characters
 * become "?", so nobody can forge a second record. The reader holds the
 * FIFO open read-write, so it never sees end-of-file between writers.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';
import type { MaillogWriter } from '../global/maillog.js';

const PIPE_BUF = 4096;

/** $queue_directory/public/postlog. */
export function postlogPath(cfg: MainConfig): string {
  return join(cfg.get('queue_directory'), 'public', 'postlog');
}

export interface Postlogd {
  /** Stops reading; the FIFO stays for the next start. */
  close(): void;
}

/** Creates the FIFO if needed (mode 0622) and appends every line written to it. */
export function startPostlogd(o: { fifoPath: string; writer: MaillogWriter; maxLine?: number }): Postlogd {
  const maxLine = o.maxLine ?? PIPE_BUF;
  ensureFifo(o.fifoPath);
  const fd = openSync(o.fifoPath, constants.O_RDWR | constants.O_NONBLOCK);
  let sock: net.Socket;
  try {
    sock = new net.Socket({ fd, readable: true, writable: false });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let pending = '';
  let skipping = false;
  const emit = (line: string) => o.writer.write(line.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?'));
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (skipping) skipping = false;
      else emit(line.slice(0, maxLine));
      nl = pending.indexOf('\n');
    }
    if (pending.length > maxLine) {
      if (!skipping) emit(pending.slice(0, maxLine));
      skipping = true;
      pending = '';
    }
  });
  // A read error on our own FIFO leaves nothing to log to but stderr.
  sock.on('error', (e) => process.stderr.write(`postlogd: read ${o.fifoPath}: ${e.message}\n`));
  return {
    close() {
      sock.destroy();
    },
  };
}

function ensureFifo(path: string): void {
  try {
    if (!lstatSync(path).isFIFO()) throw new Error(`${path}: not a FIFO`);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // Node has no mkfifo(); coreutils' does the one system call.
  execFileSync('mkfifo', ['-m', '0622', path], { stdio: ['ignore', 'ignore', 'pipe'] });
}
