/*
 * stdio - standard output as Postfix's commands treat it
 *
 * A reader that goes away (`postmap -s file | head`) kills Postfix's
 * commands with SIGPIPE: no message, exit status 128+13 as the shell sees
 * it. Node ignores SIGPIPE and reports EPIPE as an error event instead,
 * which would end in a stack trace; this makes it end the same quiet way.
 */

import { writeSync } from 'node:fs';

const SIGPIPE_STATUS = 128 + 13;

/** Postfix's VSTREAM buffer: on a fatal exit, only complete blocks of this size have gone out. */
export const VSTREAM_BLOCK = 4096;

/** Write all of `bytes` to fd 1 now (exit handlers cannot wait for a stream); a closed pipe ends it. */
export function writeStdoutSync(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

/** What a fatal exit leaves on stdout of `bytes` pending: the complete VSTREAM blocks. */
export const completeBlocks = (bytes: Uint8Array): Uint8Array =>
  bytes.subarray(0, bytes.length - (bytes.length % VSTREAM_BLOCK));

export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(SIGPIPE_STATUS);
    throw e;
  });
}
