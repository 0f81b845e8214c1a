/*
 * record_stream - queue-file records over a socket (the cleanup stream)
 *
 *   for await (const rec of readRecords(sock)) ...    // { type, data }
 *   await writeRecord(sock, REC.FROM, sender);          // waits on backpressure
 *   await writeEncoded(sock, Buffer.concat([...records]));  // several at once
 *
 * Records use the queue file encoding (src/global/queue_file.ts), so what
 * a client streams to cleanup is what cleanup writes to disk. The reader
 * holds at most one record plus one socket chunk; a record longer than
 * maxRecord, or bytes that do not decode, throw RecordStreamError.
 */

import type { Readable, Writable } from 'node:stream';
import { decodeRecord, encodeRecord, MAX_RECORD_PAYLOAD } from './queue_file.js';

export class RecordStreamError extends Error {
  override name = 'RecordStreamError';
}

export interface StreamRecord {
  readonly type: number;
  readonly data: Buffer;
}

/** The records on `input` until it ends; a partial record at the end throws. */
export async function* readRecords(
  input: Readable,
  maxRecord = MAX_RECORD_PAYLOAD,
): AsyncGenerator<StreamRecord> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
    let pos = 0;
    for (;;) {
      const d = decodeRecord(buf, pos);
      if (d.kind === 'short') break;
      if (d.kind === 'bad') throw new RecordStreamError(d.reason);
      if (d.data.length > maxRecord) throw new RecordStreamError(`record of ${d.data.length} bytes`);
      yield { type: d.type, data: d.data };
      pos = d.next;
    }
    buf = buf.subarray(pos);
    // A length field claiming more than the limit must not make us buffer it.
    if (buf.length > maxRecord + 8) throw new RecordStreamError('record too long');
  }
  if (buf.length > 0) throw new RecordStreamError('stream ends inside a record');
}

/** Write one record; resolves when the stream can take more. */
export function writeRecord(out: Writable, type: number, payload: Uint8Array | string): Promise<void> {
  return writeEncoded(out, encodeRecord(type, payload));
}

/**
 * Write records already encoded (several at once: one socket write, one
 * wake-up of the peer, instead of one per record); resolves when the
 * stream can take more.
 */
export function writeEncoded(out: Writable, bytes: Uint8Array): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.reject(new RecordStreamError('connection closed'));
  const ok = out.write(bytes);
  if (ok) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      out.off('close', onClose);
      if (e) reject(e);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new RecordStreamError('connection closed'));
    out.once('drain', onDrain);
    out.once('error', done);
    out.once('close', onClose);
  });
}
