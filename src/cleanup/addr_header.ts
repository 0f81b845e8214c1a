/*
 * addr_header - rewriting the addresses of one message header, as cleanup
 *
 * Which headers: sender headers (From, Sender, Reply-To, Errors-To,
 * Return-Receipt-To, Return-Path, Disposition-Notification-To,
 * Mail-Followup-To, Resent-From, Resent-Sender) and recipient headers
 * (To, Cc, Bcc, Apparently-To, Resent-To, Resent-Cc, Resent-Bcc and, as in
 * Postfix, Resent-Reply-To); names compared without case.
 *
 * How: the value is parsed as an address list (tok822.ts) and every
 * address goes through the steps in order, each getting the external
 * form the previous one produced. When no step changed anything the
 * value comes back byte for byte; otherwise the whole list is printed
 * again and folded as Postfix does: addresses joined on lines of under
 * 70 characters, continuation lines starting with a tab.
 */
import {
  addressExternal,
  foldHeader,
  setAddress,
  tok822Addresses,
  tok822Externalize,
  tok822Parse,
} from '../global/tok822.js';

export type HeaderClass = 'sender' | 'recipient';

const CLASSES: Readonly<Record<string, HeaderClass>> = {
  from: 'sender',
  sender: 'sender',
  'reply-to': 'sender',
  'errors-to': 'sender',
  'return-receipt-to': 'sender',
  'return-path': 'sender',
  'disposition-notification-to': 'sender',
  'mail-followup-to': 'sender',
  'resent-from': 'sender',
  'resent-sender': 'sender',
  to: 'recipient',
  cc: 'recipient',
  bcc: 'recipient',
  'apparently-to': 'recipient',
  'resent-to': 'recipient',
  'resent-cc': 'recipient',
  'resent-bcc': 'recipient',
  'resent-reply-to': 'recipient',
};

/** The address class of a header name, or null for other headers. */
export function headerClass(name: string): HeaderClass | null {
  return CLASSES[name.toLowerCase()] ?? null;
}

/** One rewriting step on an external-form address. */
export type Step = (external: string) => Promise<{ addr: string; changed: boolean } | { defer: string }>;

export type HeaderResult = { value: string } | { defer: string };

/**
 * Rewrite the addresses in `value` (the text after "name:"); the result
 * is again the text after the colon.
 */
export async function rewriteHeaderValue(
  name: string,
  value: string,
  steps: readonly Step[],
  tokenLimit: number,
  warn: (text: string) => void,
): Promise<HeaderResult> {
  const tree = tok822Parse(value, tokenLimit);
  let changed = false;
  for (const node of tok822Addresses(tree)) {
    for (const step of steps) {
      const r = await step(addressExternal(node));
      if ('defer' in r) return r;
      // Postfix re-reads every step's output, changed or not.
      setAddress(node, r.addr);
      changed ||= r.changed;
    }
  }
  if (!changed) return { value };
  const text = foldHeader(`${name}: ${tok822Externalize(tree, 'head', true, warn)}`);
  return { value: text.slice(name.length + 1) };
}
