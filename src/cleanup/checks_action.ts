/*
 * checks_action - the action a header_checks/body_checks table answers
 *
 * A table result is "ACTION optional text"; the action name is case
 * insensitive (header_checks(5)). parseAction() turns it into a typed
 * value and never throws: an unknown action, or one whose argument is
 * missing or malformed, becomes { kind: 'invalid' } carrying Postfix's
 * warning text, and cleanup then treats the line as not matched.
 * OK is accepted as DUNNO, as Postfix always has.
 */
import { isHeaderLine } from './mime_state.js';

/** Where the matched line came from: decides whether PREPEND/REPLACE text must be a header. */
export type CheckContext = 'header' | 'body';

export type CheckAction =
  | { readonly kind: 'dunno' }
  | { readonly kind: 'ignore' }
  /** reason: enhanced status code first, e.g. "5.7.1 message content rejected". */
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'warn' | 'info' | 'strip' | 'pass' | 'hold' | 'discard'; readonly text: string }
  | { readonly kind: 'filter'; readonly target: string }
  | { readonly kind: 'redirect' | 'bcc'; readonly address: string }
  | { readonly kind: 'prepend' | 'replace'; readonly text: string }
  | { readonly kind: 'invalid'; readonly warning: string };

const DSN = /^[245]\.\d{1,3}\.\d{1,3}(?=\s|$)/;

/**
 * The reply text of REJECT: the table's own enhanced status code if it
 * starts with one, else 5.7.1; the generic text when none is given.
 */
export function rejectReason(text: string): string {
  const dsn = DSN.exec(text);
  if (dsn) {
    const rest = text.slice(dsn[0].length).trimStart();
    return `${dsn[0]} ${rest || 'message content rejected'}`;
  }
  return `5.7.1 ${text || 'message content rejected'}`;
}

/**
 * value: the table's answer; context: header or body line; mapClass: the
 * parameter that named the table (header_checks, body_checks, ...), used
 * in warnings.
 */
export function parseAction(value: string, context: CheckContext, mapClass: string): CheckAction {
  const trimmed = value.trimStart();
  const m = /^(\S*)\s*([\s\S]*)$/.exec(trimmed)!;
  const command = m[1]!.toUpperCase();
  const text = m[2]!.trimEnd();
  switch (command) {
    case 'DUNNO':
    case 'OK':
      return { kind: 'dunno' };
    case 'IGNORE':
      return { kind: 'ignore' };
    case 'REJECT':
      return { kind: 'reject', reason: rejectReason(text) };
    case 'WARN':
    case 'INFO':
    case 'STRIP':
    case 'PASS':
    case 'HOLD':
    case 'DISCARD':
      return { kind: command.toLowerCase() as 'warn', text };
    case 'FILTER':
      if (text === '')
        return { kind: 'invalid', warning: `missing FILTER command argument in ${mapClass} map` };
      if (!text.includes(':')) {
        return {
          kind: 'invalid',
          warning: `bad FILTER command ${text} in ${mapClass} -- need transport:destination`,
        };
      }
      return { kind: 'filter', target: text };
    case 'REDIRECT':
    case 'BCC': {
      const what = command === 'REDIRECT' ? 'REDIRECT target' : 'BCC address';
      if (!text.includes('@')) {
        return { kind: 'invalid', warning: `bad ${what} "${text}" in ${mapClass} map -- need user@domain` };
      }
      return { kind: command === 'REDIRECT' ? 'redirect' : 'bcc', address: text };
    }
    case 'PREPEND':
    case 'REPLACE':
      if (text === '')
        return { kind: 'invalid', warning: `${command} action without text in ${mapClass} map` };
      if (context === 'header' && !isHeaderLine(text)) {
        return {
          kind: 'invalid',
          warning: `bad ${command} header text "${text}" in ${mapClass} map -- need "headername: headervalue"`,
        };
      }
      return { kind: command === 'PREPEND' ? 'prepend' : 'replace', text };
    default:
      return { kind: 'invalid', warning: `unknown command in ${mapClass} map: ${value}` };
  }
}
