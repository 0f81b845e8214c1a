/*
 * A separate process delivering messages into one mbox, for the
 * concurrency test: node mbox_writer.js <mbox> <tag> <count> <fcntl,dotlock|nolock>.
 * The message arrives slowly, in many chunks, as from a queue file, so
 * that deliveries of different processes overlap in time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deliverMbox, type LockMethod } from '../../src/global/mbox.js';

const [path, tag, count, locking] = process.argv.slice(2);

async function* content(i: number): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`Subject: ${tag} ${i}\n\n`);
  for (let n = 0; n < 10; n++) {
    yield Buffer.from(`${tag} line of text\n`.repeat(4000));
    await sleep(1);
  }
  yield Buffer.from('From the end\n');
}

for (let i = 0; i < Number(count); i++) {
  await deliverMbox({
    path: path as string,
    sender: `${tag}@example.com`,
    content: content(i),
    lock: locking === 'nolock' ? [] : (locking?.split(',') as LockMethod[]),
    retry: { attempts: 5000, delay: 0.002, stale: 500 },
  });
}
