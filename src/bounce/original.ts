/*
 * original - the message a notice is about, read from its queue file
 *
 * readOriginal() opens $queue_directory/<queue_name>/<queue_id> read-only
 * and returns what a notice needs of it (src/bounce/dsn_types.ts): arrival
 * time, sender, DSN ENVID/RET, the header section and, only when it can be
 * returned whole (within bounce_size_limit), the body; a larger body is
 * never read, so memory stays bounded by the limit. The header section
 * ends at the first empty line, as Postfix splits it.
 */

import type { DsnRet } from '../global/dsn.js';
import { type QueueLayout, queueFilePath } from '../global/queue_dirs.js';
import { openQueueFile } from '../global/queue_file_reader.js';
import { decodeBytes } from '../maps/bytes.js';
import type { DsnMessage } from './dsn_types.js';

export class OriginalUnavailable extends Error {
  override name = 'OriginalUnavailable';
}

export interface OriginalOptions {
  readonly queueName: string;
  readonly queueId: string;
  /** bounce_size_limit: a body is read only when the message is no larger. */
  readonly sizeLimit: number;
  /** The request's ENVID/RET, when given, win over the queue file's. */
  readonly dsnEnvid?: string | undefined;
  readonly dsnRet?: number | undefined;
}

/** Header lines that a longer header could not be: a cap on a damaged file's "header section". */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export async function readOriginal(layout: QueueLayout, o: OriginalOptions): Promise<DsnMessage> {
  const path = queueFilePath(layout, o.queueName, o.queueId);
  let opened: Awaited<ReturnType<typeof openQueueFile>>;
  try {
    opened = await openQueueFile(path);
  } catch (e) {
    throw new OriginalUnavailable(`${path}: ${(e as Error).message}`);
  }
  if (!opened.ok) throw new OriginalUnavailable(opened.error.message);
  const file = opened.file;
  try {
    const env = file.envelope;
    const size = file.contentLength;
    const wantBody = size <= o.sizeLimit;
    const head: Buffer[] = [];
    const body: Buffer[] = [];
    let headLen = 0;
    let inHeader = true;
    let atLineStart = true;
    for await (const { line, partial } of file.contentRecords()) {
      if (inHeader && atLineStart && !partial && line.length === 0) {
        inHeader = false;
        continue;
      }
      const piece = partial ? line : Buffer.concat([line, Buffer.from('\n')]);
      atLineStart = !partial;
      if (inHeader) {
        headLen += piece.length;
        if (headLen > MAX_HEADER_BYTES) throw new OriginalUnavailable(`${path}: header section too large`);
        head.push(piece);
      } else if (wantBody) {
        body.push(piece);
      } else {
        break;
      }
    }
    const ret = o.dsnRet ?? env.dsnRet ?? 0;
    const envId = o.dsnEnvid ?? env.dsnEnvid;
    return {
      queueId: o.queueId,
      sender: env.sender,
      arrival: new Date(env.arrival.sec * 1000 + Math.trunc(env.arrival.usec / 1000)),
      envId: envId === '' ? undefined : envId,
      ret: (ret === 1 || ret === 2 ? ret : 0) as DsnRet,
      smtputf8: /^[1-9]/.test(env.attributes?.smtputf8 ?? ''),
      encoding: env.attributes?.encoding,
      headers: decodeBytes(Buffer.concat(head)),
      body: decodeBytes(Buffer.concat(body)),
      size,
    };
  } catch (e) {
    if (e instanceof OriginalUnavailable) throw e;
    throw new OriginalUnavailable(`${path}: ${(e as Error).message}`);
  } finally {
    await file.close().catch(() => {});
  }
}
