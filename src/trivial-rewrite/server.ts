/*
 * server - trivial-rewrite's wire protocol on one stream
 *
 * Speaks Postfix's internal attribute protocol (attr_print0: every name
 * and value ends in a null byte, a request or reply ends in one more null
 * byte), so Postroom daemons and Postfix's own clients can use the same
 * requests:
 *   request=rewrite rule=local|remote address=A (external form)
 *       -> flags=0 address=REWRITTEN
 *   request=resolve|verify sender=S address=A
 *       -> flags=0 transport=T nexthop=N recipient=R flags=F
 * Requests are answered in order. A malformed request (no terminator
 * within the size limit, an unknown request) ends the session with a
 * warning; it never crashes the process.
 */
import type { Readable, Writable } from 'node:stream';
import { msg } from '../global/msg.js';
import type { Resolver } from './resolve.js';
import { type RewriteContext, type RewriteParams, rewriteRequest } from './rewrite.js';

/** A request larger than this is refused (an address is at most a few kB). */
const MAX_REQUEST = 64 * 1024;

export interface ServiceDeps {
  readonly rewrite: RewriteParams;
  readonly resolver: Resolver;
  /** For request=verify: the same resolver built with address_verify_* parameters. */
  readonly verifier: Resolver;
}

/** Encode attributes in attr_print0 form. */
export function encodeAttrs(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of pairs) parts.push(Buffer.from(`${n}\0${v}\0`, 'utf8'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Answer one decoded request; a string says why the request is not understood. */
export async function answer(
  deps: ServiceDeps,
  attrs: ReadonlyMap<string, string>,
): Promise<Buffer | string> {
  const request = attrs.get('request');
  const address = attrs.get('address') ?? '';
  if (request === 'rewrite') {
    const rule = attrs.get('rule') ?? '';
    // Postfix aborts on another rule name; here the session just ends.
    if (rule !== 'local' && rule !== 'remote') return `unknown rewrite context: "${rule}"`;
    const context: RewriteContext = rule;
    return encodeAttrs([
      ['flags', '0'],
      ['address', rewriteRequest(deps.rewrite, context, address)],
    ]);
  }
  if (request === 'resolve' || request === 'verify') {
    const resolver = request === 'verify' ? deps.verifier : deps.resolver;
    const r = await resolver.resolve(attrs.get('sender') ?? '', address);
    return encodeAttrs([
      ['flags', '0'],
      ['transport', r.transport],
      ['nexthop', r.nexthop],
      ['recipient', r.recipient],
      ['flags', String(r.flags)],
    ]);
  }
  return `unknown request: "${attrs.get('request') ?? ''}"`;
}

/** Serve requests from input until it ends; replies go to output in order. */
export async function serveStream(deps: ServiceDeps, input: Readable, output: Writable): Promise<void> {
  let buf = Buffer.alloc(0);
  for await (const chunk of input) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      const parsed = takeRequest(buf);
      if (parsed === null) break;
      buf = buf.subarray(parsed.used);
      const reply = await answer(deps, parsed.attrs);
      if (typeof reply === 'string') {
        msg.warn(reply);
        return;
      }
      if (!output.write(reply)) await new Promise((r) => output.once('drain', r));
    }
    if (buf.length > MAX_REQUEST) {
      msg.warn(`request exceeds ${MAX_REQUEST} bytes`);
      return;
    }
  }
}

/** One complete request at the start of buf: its attributes and byte length. */
export function takeRequest(buf: Buffer): { attrs: Map<string, string>; used: number } | null {
  const attrs = new Map<string, string>();
  let pos = 0;
  for (;;) {
    const end = buf.indexOf(0, pos);
    if (end < 0) return null;
    if (end === pos) return { attrs, used: pos + 1 };
    const vend = buf.indexOf(0, end + 1);
    if (vend < 0) return null;
    attrs.set(buf.toString('utf8', pos, end), buf.toString('utf8', end + 1, vend));
    pos = vend + 1;
  }
}
