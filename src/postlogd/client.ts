/*
 * postlogd client - a msg sink that hands lines to postlogd's FIFO
 *
 * For programs without permission to append to $maillog_file. Each line is
 * formatted here (timestamp, host, program[pid]) as postlogd writes it
 * verbatim, cut to PIPE_BUF and written with one non-blocking write so it
 * stays whole and never stalls the program. When postlogd is not running
 * (no reader: ENXIO), has gone (EPIPE) or is behind (EAGAIN), the line goes
 * to the fallback sink instead (stderr by default) rather than being lost.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { capLine, formatLogLine } from '../global/maillog.js';
import { msg, type Sink } from '../global/msg.js';

export function postlogSink(o: {
  fifoPath: string;
  /** The first label of $myhostname. */
  host: string;
  pid?: number;
  fallback?: Sink;
  clock?: () => Date;
}): Sink {
  const pid = o.pid ?? process.pid;
  const clock = o.clock ?? (() => new Date());
  const fallback: Sink = o.fallback ?? ((_level, line) => process.stderr.write(line + '\n'));
  let fd = -1;
  return (level, line) => {
    const prefix = `${msg.program}: `;
    const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
    const record = capLine(formatLogLine(clock(), o.host, msg.program, pid, text));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (fd < 0) fd = openSync(o.fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, record);
        return;
      } catch {
        // The reader may have restarted: reopen once, then give up on this line.
        if (fd >= 0) closeSync(fd);
        fd = -1;
      }
    }
    fallback(level, line);
  };
}
