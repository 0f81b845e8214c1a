/*
 * postdrop - put a submission stream into the maildrop queue
 *
 * SYNOPSIS
 *   postdrop [-c config_dir] [-r] [-v]
 *
 * DESCRIPTION
 *   Reads one message in Postroom's submission stream
 *   (src/sendmail/stream.ts) from standard input and writes it into
 *   maildrop/ with the durable queue file writer; on success it prints
 *   "queue_id=ID" and exits 0. A truncated or malformed stream, or one
 *   whose content passes message_size_limit, leaves no file and exits 1
 *   ("postdrop: fatal: uid=N: malformed input"), as Postfix's postdrop.
 *
 *   In Postfix, postdrop is the setgid helper that sendmail always runs.
 *   Postroom is installed without setgid programs, so sendmail writes
 *   maildrop/ itself; postdrop serves programs that produce the stream
 *   (and a future privileged install). -r is accepted and ignored.
 */

import { loadMainConfig, loadParams } from '../global/config.js';
import { msg } from '../global/msg.js';
import { queueLayout } from '../global/queue_dirs.js';
import { decodeSubmission } from '../sendmail/stream.js';
import { writeMaildrop } from '../sendmail/submit.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('postdrop');

async function readAll(limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    if (limit > 0 && n > limit) return undefined;
  }
  return Buffer.concat(chunks, n);
}

async function main(): Promise<void> {
  const r = getopt(process.argv.slice(2), 'c:rv');
  if (r.kind === 'error') {
    process.stderr.write(`postdrop: ${r.message}\n`);
    return msg.fatal('usage: postdrop [-c config_dir] [-v]');
  }
  let configDir: string | undefined;
  for (const o of r.opts) {
    if (o.opt === 'c') configDir = o.arg;
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  const cfg = loadMainConfig({ configDir });
  const sizeLimit = Number(loadParams(cfg, ['message_size_limit']).message_size_limit);
  const uid = process.getuid?.() ?? 0;
  // Records add a few bytes a line; twice the limit plus room for the envelope bounds memory.
  const buf = await readAll(sizeLimit > 0 ? 2 * sizeLimit + (1 << 20) : 0);
  if (buf === undefined) {
    msg.warn(`uid=${uid}: File too large`);
    return msg.fatal(`uid=${uid}: malformed input`);
  }
  const d = decodeSubmission(buf);
  if (!d.ok) {
    msg.warn(d.warning);
    return msg.fatal(`uid=${uid}: malformed input`);
  }
  const size = d.message.lines.reduce((n, l) => n + l.length + 1, 0);
  if (sizeLimit > 0 && size > sizeLimit) {
    msg.warn(`uid=${uid}: File too large`);
    return msg.fatal(`uid=${uid}: malformed input`);
  }
  let id: string;
  try {
    id = await writeMaildrop(queueLayout(cfg), d.message);
  } catch (e) {
    return msg.fatal(`uid=${uid}: queue file write error: ${strerror(e)}`);
  }
  process.stdout.write(`queue_id=${id}\n`);
}

await main();
