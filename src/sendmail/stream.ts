/*
 * stream - the submission stream postdrop reads on standard input
 *
 * Postroom's own format (Postfix's record stream is not reproduced): the
 * queue file's record encoding (src/global/queue_file.ts: type byte,
 * varint length, payload) with the records, in this order:
 *
 *   A* (name=value)  i? (ENVID)  <? (RET)  S (sender)
 *   recipients: n? (NOTIFY bits) R (address)
 *   M  N/L content (as in a queue file)  X  recipients from the header
 *   E
 *
 * The stream carries no sizes or times: postdrop stamps the arrival time
 * and the durable writer computes the rest. decodeSubmission() accepts
 * exactly this order and reports the first violation, so a truncated or
 * damaged stream never becomes a queue file.
 */

import type { QueueRecipient } from '../global/queue_file.js';
import { type Decoded, decodeRecord, encodeRecord, REC } from '../global/queue_file.js';
import type { MaildropMessage } from './submit.js';

export function encodeSubmission(m: MaildropMessage): Buffer {
  const out: Buffer[] = [];
  const put = (type: number, payload: string | Buffer) => out.push(encodeRecord(type, payload));
  for (const [k, v] of Object.entries(m.attributes)) put(REC.ATTR, `${k}=${v}`);
  if (m.dsnEnvid !== undefined) put(REC.DSN_ENVID, m.dsnEnvid);
  if (m.dsnRet !== undefined) put(REC.DSN_RET, String(m.dsnRet));
  put(REC.FROM, m.sender);
  const rcpt = (r: QueueRecipient) => {
    if (r.dsnNotify !== undefined) put(REC.DSN_NOTIFY, String(r.dsnNotify));
    put(REC.RCPT, r.address);
  };
  m.recipients.forEach(rcpt);
  put(REC.MESG, '');
  for (const line of m.lines) put(REC.NORM, Buffer.from(line, 'latin1'));
  put(REC.XTRA, '');
  m.extracted.forEach(rcpt);
  put(REC.END, '');
  return Buffer.concat(out);
}

export type DecodeResult = { ok: true; message: MaildropMessage } | { ok: false; warning: string };

/** Parse a whole submission stream. */
export function decodeSubmission(buf: Buffer): DecodeResult {
  const attributes: Record<string, string> = Object.create(null);
  const recipients: QueueRecipient[] = [];
  const extracted: QueueRecipient[] = [];
  const lines: string[] = [];
  let sender: string | undefined;
  let dsnEnvid: string | undefined;
  let dsnRet: number | undefined;
  let notify: number | undefined;
  let section: 'envelope' | 'content' | 'extracted' = 'envelope';
  let partial = '';
  let pos = 0;
  const bad = (why: string): DecodeResult => ({ ok: false, warning: `stdin: ${why}` });
  for (;;) {
    const d: Decoded = decodeRecord(buf, pos);
    if (d.kind === 'short') {
      const type = pos < buf.length ? buf[pos] : undefined;
      return bad(
        type === undefined
          ? 'unexpected EOF'
          : `unexpected EOF in data, record type ${type} at offset ${pos}`,
      );
    }
    if (d.kind === 'bad') return bad(d.reason);
    pos = d.next;
    const text = d.data.toString('utf8');
    const type = d.type;
    if (section === 'content') {
      if (type === REC.NORM) {
        lines.push(partial + d.data.toString('latin1'));
        partial = '';
      } else if (type === REC.CONT) {
        partial += d.data.toString('latin1');
      } else if (type === REC.XTRA) {
        if (partial !== '') lines.push(partial);
        section = 'extracted';
      } else {
        return bad(`unexpected record type ${type} in content`);
      }
      continue;
    }
    if (type === REC.DSN_NOTIFY) {
      const n = Number(text);
      if (!/^\d{1,2}$/.test(text) || n < 1 || n > 15) return bad(`bad DSN NOTIFY value ${text}`);
      notify = n;
    } else if (type === REC.RCPT) {
      if (sender === undefined) return bad('recipient before sender');
      const r: QueueRecipient =
        notify === undefined ? { address: text } : { address: text, dsnNotify: notify };
      (section === 'envelope' ? recipients : extracted).push(r);
      notify = undefined;
    } else if (type === REC.END) {
      if (section !== 'extracted') return bad('end of stream before the content');
      if (pos !== buf.length) return bad('data after end of stream');
      if (sender === undefined) return bad('no sender');
      const message: MaildropMessage = {
        sender,
        recipients,
        extracted,
        attributes,
        lines,
        ...(dsnEnvid === undefined ? {} : { dsnEnvid }),
        ...(dsnRet === undefined ? {} : { dsnRet }),
      };
      return { ok: true, message };
    } else if (section !== 'envelope') {
      return bad(`unexpected record type ${type} after the content`);
    } else if (type === REC.ATTR) {
      const eq = text.indexOf('=');
      if (eq <= 0 || sender !== undefined) return bad('misplaced or bad attribute record');
      attributes[text.slice(0, eq)] = text.slice(eq + 1);
    } else if (type === REC.DSN_ENVID && sender === undefined) {
      dsnEnvid = text;
    } else if (type === REC.DSN_RET && sender === undefined && (text === '1' || text === '2')) {
      dsnRet = Number(text);
    } else if (type === REC.FROM && sender === undefined) {
      sender = text;
    } else if (type === REC.MESG && sender !== undefined && notify === undefined) {
      section = 'content';
    } else {
      return bad(`unexpected record type ${type} in the envelope`);
    }
  }
}
