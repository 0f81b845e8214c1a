/*
 * stdio - standard output as Postfix's commands treat it
 *
 * A reader that goes away (`postmap -s file | head`) kills Postfix's
 * commands with SIGPIPE: no message, exit status 128+13 as the shell sees
 * it. Node ignores SIGPIPE and reports EPIPE as an error event instead,
 * which would end in a stack trace; this makes it end the same quiet way.
 */

const SIGPIPE_STATUS = 128 + 13;

export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(SIGPIPE_STATUS);
    throw e;
  });
}
