/*
 * options - the sendmail(1) command line, as Postfix 3.7 reads it
 *
 * parseSendmailArgs(argv) turns the arguments into a Submission request or
 * a Problem (the fatal text and the exit status Postfix uses). Nothing here
 * touches files, so the parse is cheap and testable on its own. Options
 * that Postfix accepts and ignores (-c -G -U -x -m -h -p -e -L -O and most
 * -o forms) are accepted and ignored here too. Mode options that need
 * running daemons (-bs -bp -bi -bd -bh -q -I) are reported as 'later'.
 * -bv (verify) and -v (record) ask for a delivery report: traceFlags()
 * gives the queue file's trace_flags value, probeLines() the message
 * -bv submits instead of reading standard input (docs/verify.md).
 */

import { DEL_REQ_FLAG } from '../global/deliver_request.js';
import { DSN_NOTIFY, DSN_RET } from '../global/queue_file.js';
import { getopt } from '../util/getopt.js';
import { parseAddressList } from './headers.js';

export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_TEMPFAIL = 75;

export interface SendmailArgs {
  readonly mode: 'enqueue' | 'later';
  /** For 'later': the option the user asked for ("-bp", "-q"). */
  readonly laterOption?: string;
  readonly configDir?: string;
  /** -f/-r; undefined means the invoking user. */
  readonly sender?: string;
  readonly fullName?: string;
  readonly extract: boolean;
  readonly ignoreDots: boolean;
  readonly dsnNotify?: number;
  readonly dsnRet?: number;
  readonly dsnEnvid?: string;
  /** -B: the body type, as the maildrop file's encoding attribute (8bit or 7bit). */
  readonly encoding?: '8bit' | '7bit';
  /** -v count: one asks for a delivery report, more also for verbose logging. */
  readonly verbose: number;
  /** -bv: verify the recipients, deliver nothing, report to the sender. */
  readonly verify: boolean;
  readonly recipients: readonly string[];
  /** Warnings to print before going on (bad -N/-R/-V values are ignored, as in Postfix). */
  readonly warnings: readonly string[];
}

export type Parsed =
  | { readonly kind: 'ok'; readonly args: SendmailArgs }
  | {
      readonly kind: 'error';
      readonly stderr: readonly string[];
      readonly fatal: string;
      readonly status: number;
    };

const OPTSTRING = 'B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q:r:tvx';
const LATER_MODES = new Set(['s', 'p', 'i', 'd', 'h', 'H', 'l']);

/** "never" or a comma list of success, failure, delay; undefined when bad. */
export function parseNotify(text: string): { bits?: number; warning?: string } {
  let bits = 0;
  for (const word of text.split(/[\s,]+/).filter((w) => w !== '')) {
    switch (word.toLowerCase()) {
      case 'never':
        bits |= DSN_NOTIFY.NEVER;
        break;
      case 'success':
        bits |= DSN_NOTIFY.SUCCESS;
        break;
      case 'failure':
        bits |= DSN_NOTIFY.FAILURE;
        break;
      case 'delay':
        bits |= DSN_NOTIFY.DELAY;
        break;
      default:
        return { warning: `unknown DSN NOTIFY command value "${word}" in "${text}"` };
    }
  }
  // NEVER excludes the others.
  if (bits === 0 || ((bits & DSN_NOTIFY.NEVER) !== 0 && bits !== DSN_NOTIFY.NEVER)) return {};
  return { bits };
}

/** The address in -f's argument ("Name <a@b>", "<a@b>", "a@b"); "" and "<>" are the null sender. */
export function cleanSender(text: string): string {
  return parseAddressList(text)[0] ?? '';
}

export function parseSendmailArgs(argv: readonly string[]): Parsed {
  // -q takes an optional interval glued to it, which getopt cannot express.
  if (hasQueueRunOption(argv)) return { kind: 'ok', args: { ...base(), mode: 'later', laterOption: '-q' } };
  const r = getopt(argv, OPTSTRING);
  if (r.kind === 'error')
    return {
      kind: 'error',
      // Postfix's sendmail shows getopt's complaint twice (libc's line, then its own log line).
      stderr: [`sendmail: ${r.message}`, `sendmail: ${r.message}`],
      fatal: 'usage: sendmail [options]',
      status: EX_TEMPFAIL,
    };
  const a: {
    -readonly [K in keyof SendmailArgs]: SendmailArgs[K];
  } = base();
  const warnings: string[] = [];
  for (const { opt, arg = '' } of r.opts) {
    switch (opt) {
      case 'B':
        // Upper case only, as Postfix compares it (test/golden/sendmail: lower-B).
        if (arg === '8BITMIME') a.encoding = '8bit';
        else if (arg === '7BIT') a.encoding = '7bit';
        else return fatal('-B option needs 8BITMIME or 7BIT');
        break;
      case 'C':
        a.configDir = arg;
        break;
      case 'F':
        a.fullName = arg;
        break;
      case 'I':
        a.mode = 'later';
        a.laterOption = '-I';
        break;
      case 'N': {
        const n = parseNotify(arg);
        if (n.warning !== undefined) warnings.push(n.warning);
        if (n.bits === undefined) warnings.push('bad -N option value -- ignored');
        else a.dsnNotify = n.bits;
        break;
      }
      case 'R':
        if (/^full$/i.test(arg)) a.dsnRet = DSN_RET.FULL;
        else if (/^hdrs$/i.test(arg)) a.dsnRet = DSN_RET.HDRS;
        else warnings.push('bad -R option value -- ignored');
        break;
      case 'V':
        if (arg.length > 100) warnings.push('too long -V option value -- ignored');
        else a.dsnEnvid = arg;
        break;
      case 'X':
        return fatal(`unsupported: -X${arg.slice(0, 1)}`);
      case 'b':
        if (arg === 'm') break;
        if (arg === 'v') {
          a.verify = true;
          break;
        }
        if (LATER_MODES.has(arg)) {
          a.mode = 'later';
          a.laterOption = `-b${arg}`;
          break;
        }
        return fatal(`unsupported: -b${arg}`);
      case 'f':
      case 'r':
        a.sender = cleanSender(arg);
        break;
      case 'i':
        a.ignoreDots = true;
        break;
      case 'n':
        return fatal('-n option not supported');
      case 'o':
        if (arg === 'i') a.ignoreDots = true;
        break;
      case 't':
        a.extract = true;
        break;
      case 'v':
        a.verbose++;
        break;
      default:
        // Accepted and ignored, as Postfix does.
        break;
    }
  }
  a.recipients = r.operands;
  a.warnings = warnings;
  return { kind: 'ok', args: a };
}

function fatal(text: string): Parsed {
  return { kind: 'error', stderr: [], fatal: text, status: EX_TEMPFAIL };
}

function base(): { -readonly [K in keyof SendmailArgs]: SendmailArgs[K] } {
  return {
    mode: 'enqueue',
    extract: false,
    ignoreDots: false,
    verbose: 0,
    verify: false,
    recipients: [],
    warnings: [],
  };
}

/** The trace_flags attribute value (DEL_REQ_FLAG bits) for the maildrop file; 0: none. */
export function traceFlags(a: SendmailArgs): number {
  return (a.verify ? DEL_REQ_FLAG.VERIFY : 0) | (a.verbose > 0 ? DEL_REQ_FLAG.RECORD : 0);
}

/** What sendmail prints once a report was asked for and the message is queued. */
export function reportNotice(sender: string): string {
  return `Mail Delivery Status Report will be mailed to <${sender}>.\n`;
}

/**
 * The message -bv submits (standard input is not read): a header naming
 * the sender and the recipients, as Postfix's sendmail makes it, so the
 * report's returned headers say what was asked.
 */
export async function* probeLines(sender: string, recipients: readonly string[]): AsyncGenerator<string> {
  if (sender !== '') yield `From: ${sender}`;
  yield 'Subject: probe';
  if (recipients.length > 0) yield `To: ${recipients.join(', ')}`;
}

/** A -q word among the options (walking them as getopt will, so an option's argument is not mistaken for it). */
function hasQueueRunOption(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--' || word.length < 2 || !word.startsWith('-')) return false;
    for (let j = 1; j < word.length; j++) {
      const c = word[j] as string;
      if (c === 'q') return true;
      const at = OPTSTRING.indexOf(c);
      if (at >= 0 && OPTSTRING[at + 1] === ':') {
        if (j + 1 === word.length) i++;
        break;
      }
    }
  }
  return false;
}
