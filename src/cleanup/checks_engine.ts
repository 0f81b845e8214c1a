/*
 * checks_engine - header_checks, mime_header_checks, nested_header_checks
 * and body_checks applied to one message as it streams through cleanup
 *
 * ContentChecks feeds each line to the MIME parser (mime_state.ts), looks
 * every logical header and non-empty body line up in the right tables,
 * applies the action, and passes the (possibly changed) content on to the
 * caller's output in order. Which tables see what, as in Postfix:
 *   - primary headers: header_checks, except MIME headers (Content-*,
 *     MIME-Version), which go to mime_header_checks;
 *   - headers of multipart parts: mime_header_checks;
 *   - headers of attached messages: nested_header_checks;
 *   - body lines (boundary lines included) whose offset in their body
 *     segment is below body_checks_size_limit (0: no limit): body_checks.
 * The lookup key is the whole logical header, lines joined with "\n".
 *
 * A table list answers with its first table that finds the key. A table
 * that answers retry (or could not be opened) makes the outcome a
 * temporary failure: the message is never accepted on a guess. REJECT,
 * DISCARD and a temporary failure end all inspection; PASS ends header
 * and body inspection but the message goes on. MIME errors selected by
 * the strict_* parameters (and nesting, always) reject the message.
 */
import { listItems } from '../maps/braces.js';
import { type Dict, DictOpenError, READ_FLAGS } from '../maps/dict.js';
import { openDict } from '../maps/index.js';
import { type CheckContext, parseAction } from './checks_action.js';
import {
  type HeaderClass,
  isMimeHeader,
  MIME_ERR_8BIT_IN_7BIT_BODY,
  MIME_ERR_8BIT_IN_HEADER,
  MIME_ERR_ENCODING_DOMAIN,
  MIME_ERR_NESTING,
  MIME_ERR_TRUNC_HEADER,
  type MimeLimits,
  MimeState,
  mimeErrorText,
} from './mime_state.js';

/** One table list (a header_checks-like parameter), opened. */
export interface CheckTables {
  /** The parameter name, e.g. "header_checks", for warnings and logs. */
  readonly title: string;
  readonly dicts: readonly Dict[];
}

export interface ChecksConfig {
  readonly limits: MimeLimits;
  /** MIME_ERR_* flags that reject the message (see mimeReportMask). */
  readonly reportMask: number;
  /** body_checks_size_limit */
  readonly bodyCheckLimit: number;
  readonly header?: CheckTables;
  readonly mimeHeader?: CheckTables;
  readonly nestedHeader?: CheckTables;
  readonly body?: CheckTables;
}

/** What the caller writes to the queue file, in order. */
export interface ContentOutput {
  header(cls: HeaderClass, text: string): void;
  /** End of the primary headers: where cleanup adds missing headers. */
  primaryEnd(): void;
  body(text: string): void;
}

/** A line worth logging (Postfix: "<queue id>: <action>: header <line> from ...: <text>"). */
export interface CheckEvent {
  readonly action: string;
  readonly context: CheckContext | 'mime-error';
  readonly line: string;
  readonly text: string;
}

export interface ContentOutcome {
  /** REJECT or a rejected MIME error: the reply text with its status code first. */
  reject?: string;
  /** A table lookup failed: defer the message (4.3.0), never accept it. */
  tempfail?: string;
  hold?: string;
  discard?: string;
  /** FILTER transport:destination (last one wins). */
  filter?: string;
  /** REDIRECT user@domain (last one wins). */
  redirect?: string;
  /** BCC recipients, duplicates removed, in order of first use. */
  readonly bcc: string[];
  /** PASS fired: no more header/body/milter inspection. */
  pass: boolean;
  /** All MIME_ERR_* flags seen (reported or not). */
  mimeErrors: number;
  has8bit: boolean;
  /** A MIME part declared Content-Transfer-Encoding 8bit or binary. */
  declared8bit: boolean;
  /** Actions and invalid table results, in order, for the log. */
  readonly events: CheckEvent[];
  /** Warnings about bad table results (Postfix logs them as warnings). */
  readonly warnings: string[];
}

type Pending =
  | { readonly kind: 'header'; readonly cls: HeaderClass; readonly text: string }
  | { readonly kind: 'end' }
  | { readonly kind: 'body'; readonly text: string; readonly offset: number };

export class ContentChecks {
  readonly outcome: ContentOutcome = {
    bcc: [],
    pass: false,
    mimeErrors: 0,
    has8bit: false,
    declared8bit: false,
    events: [],
    warnings: [],
  };
  readonly #parser: MimeState;
  /** Events of the line being pushed; at most one line's worth (one header, a few body lines). */
  #queue: Pending[] = [];
  #reported = false;

  constructor(
    readonly config: ChecksConfig,
    readonly out: ContentOutput,
  ) {
    this.#parser = new MimeState(config.limits, {
      header: (cls, text) => this.#queue.push({ kind: 'header', cls, text }),
      primaryEnd: () => this.#queue.push({ kind: 'end' }),
      body: (text, offset) => this.#queue.push({ kind: 'body', text, offset }),
    });
  }

  /** Inspection is over: rejected, discarded, deferred or passed. */
  get #stopped(): boolean {
    const o = this.outcome;
    return o.reject !== undefined || o.discard !== undefined || o.tempfail !== undefined || o.pass;
  }

  /** Push one line of the message (without its newline). */
  async line(text: string): Promise<void> {
    this.#parser.line(text);
    await this.#drain();
  }

  /** End of the message: the outcome, complete. */
  async end(): Promise<ContentOutcome> {
    this.#parser.end();
    await this.#drain();
    this.#mimeErrors();
    this.outcome.has8bit = this.#parser.has8bit;
    this.outcome.declared8bit = this.#parser.declared8bit;
    return this.outcome;
  }

  async #drain(): Promise<void> {
    const q = this.#queue;
    this.#queue = [];
    for (const ev of q) {
      this.#mimeErrors();
      if (ev.kind === 'end') this.out.primaryEnd();
      else if (ev.kind === 'header') await this.#header(ev.cls, ev.text);
      else await this.#body(ev.text, ev.offset);
    }
  }

  #mimeErrors(): void {
    const errs = this.#parser.errors;
    this.outcome.mimeErrors = errs;
    const reported = errs & this.config.reportMask;
    if (reported === 0 || this.#reported || this.outcome.reject !== undefined) return;
    this.#reported = true;
    const text = mimeErrorText(reported);
    this.outcome.reject = `5.6.0 ${text}`;
    this.outcome.events.push({ action: 'reject', context: 'mime-error', line: text, text: '' });
  }

  #tablesFor(cls: HeaderClass, text: string): CheckTables | undefined {
    if (cls === 'nested') return this.config.nestedHeader;
    if (cls === 'multipart' || isMimeHeader(text)) return this.config.mimeHeader;
    return this.config.header;
  }

  async #header(cls: HeaderClass, text: string): Promise<void> {
    const tables = this.#stopped ? undefined : this.#tablesFor(cls, text);
    const action = tables ? await this.#lookup(tables, text, 'header') : undefined;
    switch (action?.kind) {
      case 'ignore':
      case 'strip':
        return;
      case 'prepend':
        this.out.header(cls, action.text);
        break;
      case 'replace':
        this.out.header(cls, action.text);
        return;
    }
    this.out.header(cls, text);
  }

  async #body(text: string, offset: number): Promise<void> {
    const limit = this.config.bodyCheckLimit;
    const tables = this.config.body;
    const check = tables && text !== '' && !this.#stopped && (limit === 0 || offset < limit);
    const action = check ? await this.#lookup(tables, text, 'body') : undefined;
    switch (action?.kind) {
      case 'ignore':
      case 'strip':
        return;
      case 'prepend':
        this.out.body(action.text);
        break;
      case 'replace':
        this.out.body(action.text);
        return;
    }
    this.out.body(text);
  }

  /** Look up and apply the message-wide part of an action; returns it for the line-level part. */
  async #lookup(tables: CheckTables, key: string, context: CheckContext) {
    let value: string | undefined;
    for (const d of tables.dicts) {
      const r = await d.lookup(key);
      if (r.kind === 'retry') {
        this.outcome.tempfail = `${tables.title} map lookup problem -- message not accepted, try again later`;
        return undefined;
      }
      if (r.kind === 'found') {
        value = r.value;
        break;
      }
    }
    if (value === undefined) return undefined;
    const action = parseAction(value, context, tables.title);
    const o = this.outcome;
    const log = (name: string, text: string) => o.events.push({ action: name, context, line: key, text });
    switch (action.kind) {
      case 'invalid':
        o.warnings.push(action.warning);
        return undefined;
      case 'dunno':
      case 'ignore':
        break;
      case 'reject':
        o.reject = action.reason;
        log('reject', action.reason);
        break;
      case 'warn':
        log('warning', action.text);
        break;
      case 'info':
      case 'strip':
      case 'pass':
        log(action.kind, action.text);
        if (action.kind === 'pass') o.pass = true;
        break;
      case 'hold':
        o.hold = action.text;
        log('hold', action.text);
        break;
      case 'discard':
        o.discard = action.text;
        log('discard', action.text);
        break;
      case 'filter':
        o.filter = action.target;
        log('filter', action.target);
        break;
      case 'redirect':
        o.redirect = action.address;
        log('redirect', action.address);
        break;
      case 'bcc':
        if (!o.bcc.includes(action.address)) o.bcc.push(action.address);
        log('bcc', action.address);
        break;
      case 'prepend':
      case 'replace':
        log(action.kind, action.text);
        break;
    }
    return action;
  }
}

/** The MIME errors cleanup rejects, from the strict_* parameters (nesting: always). */
export function mimeReportMask(p: {
  strict_8bitmime: boolean;
  strict_7bit_headers: boolean;
  strict_8bitmime_body: boolean;
  strict_mime_encoding_domain: boolean;
}): number {
  let mask = MIME_ERR_NESTING;
  if (p.strict_8bitmime || p.strict_7bit_headers) mask |= MIME_ERR_8BIT_IN_HEADER;
  if (p.strict_8bitmime || p.strict_8bitmime_body) mask |= MIME_ERR_8BIT_IN_7BIT_BODY;
  if (p.strict_mime_encoding_domain) mask |= MIME_ERR_ENCODING_DOMAIN;
  if (p.strict_8bitmime || p.strict_7bit_headers || p.strict_8bitmime_body || p.strict_mime_encoding_domain) {
    mask |= MIME_ERR_TRUNC_HEADER;
  }
  return mask;
}

/** A table that could not be opened: every lookup defers, as Postfix's surrogate table. */
function failedDict(spec: string, reason: string): Dict {
  return {
    type: 'fail',
    name: spec,
    lookup: async () => ({ kind: 'retry', reason }),
    close: async () => {},
  };
}

/**
 * Open one table list ("pcre:/a, regexp:/b"); an empty value gives
 * undefined (no checks). A table that cannot be opened is reported
 * through warn and answers retry, so mail is deferred, not let through.
 */
export async function openCheckTables(
  title: string,
  value: string,
  purpose: 'header' | 'body',
  warn: (text: string) => void,
): Promise<CheckTables | undefined> {
  // Inline tables ("regexp:{ {/x/ REJECT y} }") are one item, as Postfix splits the list.
  const specs = listItems(value);
  if (specs.length === 0) return undefined;
  const dicts: Dict[] = [];
  for (const spec of specs) {
    try {
      dicts.push(await openDict(spec, { ...READ_FLAGS, purpose, title }));
    } catch (e) {
      if (!(e instanceof DictOpenError)) throw e;
      warn(`${title}: ${e.message}`);
      dicts.push(failedDict(spec, e.message));
    }
  }
  return { title, dicts };
}
