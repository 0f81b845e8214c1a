/*
 * A separate process delivering messages into one mbox, for the
 * concurrency test: node mbox_writer.js <mbox> <tag> <count> <bodyBytes>
 */
import { deliverMbox } from '../../src/global/mbox.js';

const [path, tag, count, size] = process.argv.slice(2);
const body = `${`${tag} line of text\n`.repeat(Math.ceil(Number(size) / 20))}`;
for (let i = 0; i < Number(count); i++) {
  await deliverMbox({
    path: path as string,
    sender: `${tag}@example.com`,
    content: `Subject: ${tag} ${i}\n\n${body}From the end\n`,
    lock: ['fcntl', 'dotlock'],
    retry: { attempts: 2000, delay: 0.005, stale: 500 },
  });
}
