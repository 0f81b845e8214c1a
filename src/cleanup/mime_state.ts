/*
 * mime_state - streaming message content parser (Postfix's mime_state)
 *
 * Push one message line at a time (no newline); the parser calls back with
 * logical headers, the end of the primary header block, and body lines.
 * Memory is bounded: one logical header (at most header_size_limit bytes
 * plus one line) and one stack entry per open MIME level (a header and
 * one boundary of at most mime_boundary_length_limit bytes a level).
 *
 * Headers: a line "name:" starts a header; lines that begin with space or
 * tab continue it, joined with "\n" (the lookup key header_checks sees);
 * white space between the name and the colon is removed.
 * Once a header holds header_size_limit bytes or more, further
 * continuation lines are dropped (MIME_ERR_TRUNC_HEADER). A non-header,
 * non-empty line ends a header block; for the primary headers an empty
 * line is supplied to the body stream first, for a part's or an attached
 * message's headers not (Postfix does the same).
 *
 * MIME (unless disabled): headers are classed 'primary' (the message's
 * own), 'multipart' (a part after a boundary line) or 'nested' (an
 * attached message/rfc822 or message/global, also the default type of
 * a multipart/digest part). A line that begins with "--" and a boundary
 * of any open multipart (compared on at most mime_boundary_length_limit
 * bytes, as Postfix does) opens a part, or closes that multipart when "--"
 * follows. The empty line that ends every header block is a body line.
 *
 * Errors are flags (MIME_ERR_*), as Postfix reports them to cleanup; the
 * caller decides (strict_* parameters) whether they reject the message.
 * The parser itself never throws on content.
 */

export type HeaderClass = 'primary' | 'multipart' | 'nested';

export const MIME_ERR_TRUNC_HEADER = 1 << 0;
export const MIME_ERR_NESTING = 1 << 1;
export const MIME_ERR_8BIT_IN_HEADER = 1 << 2;
export const MIME_ERR_8BIT_IN_7BIT_BODY = 1 << 3;
export const MIME_ERR_ENCODING_DOMAIN = 1 << 4;

/** Postfix's wording for each error, used in cleanup's reject reason and log. */
export function mimeErrorText(err: number): string {
  if (err & MIME_ERR_NESTING) return 'MIME nesting exceeds safety limit';
  if (err & MIME_ERR_TRUNC_HEADER) return 'message header length exceeds safety limit';
  if (err & MIME_ERR_8BIT_IN_HEADER) return 'improper use of 8-bit data in message header';
  if (err & MIME_ERR_8BIT_IN_7BIT_BODY) return 'improper use of 8-bit data in message body';
  if (err & MIME_ERR_ENCODING_DOMAIN) return 'invalid message/* or multipart/* encoding domain';
  return 'unknown MIME error';
}

export interface MimeLimits {
  /** header_size_limit */
  readonly headerSizeLimit: number;
  /** mime_nesting_limit */
  readonly nestingLimit: number;
  /** mime_boundary_length_limit */
  readonly boundaryLengthLimit: number;
  /** disable_mime_input_processing: only the primary headers are headers. */
  readonly disableMime: boolean;
}

export interface MimeCallbacks {
  /** One logical header, continuation lines joined with "\n". */
  header(cls: HeaderClass, text: string): void;
  /** The primary header block ended (before its empty line reaches body). */
  primaryEnd?(): void;
  /**
   * A body line; offset is its byte position within the current body
   * segment (primary body or one MIME part), for body_checks_size_limit.
   */
  body(text: string, offset: number): void;
}

type Encoding = '7bit' | '8bit' | 'binary' | 'qp' | 'base64' | 'other';

interface Level {
  readonly boundary: string;
  readonly digest: boolean;
  /** Attached messages open around this multipart, restored at its boundaries. */
  readonly nestedDepth: number;
}

/** A header's name (RFC 5322 printable ASCII except ":"), as Postfix's is_header. */
const HEADER_START = /^[!-9;-~]+[ \t]*:/;
const EIGHT_BIT = /[^\x00-\x7f]/;

export function isHeaderLine(text: string): boolean {
  return HEADER_START.test(text);
}

/** Header names whose header Postfix treats as MIME (mime_header_checks). */
const MIME_HEADERS = new Set([
  'content-description',
  'content-disposition',
  'content-id',
  'content-transfer-encoding',
  'content-type',
  'mime-version',
]);

export function headerName(text: string): string {
  return text.slice(0, text.indexOf(':')).trimEnd();
}

export function isMimeHeader(text: string): boolean {
  return MIME_HEADERS.has(headerName(text).toLowerCase());
}

export class MimeState {
  #inHeader = true;
  #cls: HeaderClass = 'primary';
  #pending: string | null = null;
  #ctype = '';
  #cte: Encoding = '7bit';
  #bodyEnc: Encoding = '7bit';
  #offset = 0;
  #errors = 0;
  #has8bit = false;
  #declared8bit = false;
  readonly #stack: Level[] = [];
  #nestedDepth = 0;
  /** The part being read belongs to a multipart/digest: its default type is message/rfc822. */
  #digestPart = false;

  constructor(
    readonly limits: MimeLimits,
    readonly cb: MimeCallbacks,
  ) {}

  /** MIME_ERR_* flags seen so far. */
  get errors(): number {
    return this.#errors;
  }

  /** 8-bit data anywhere (header or body): the message is not 7-bit clean. */
  get has8bit(): boolean {
    return this.#has8bit;
  }

  /** A Content-Transfer-Encoding of 8bit or binary, in any part: the message body is 8-bit. */
  get declared8bit(): boolean {
    return this.#declared8bit;
  }

  line(text: string): void {
    if (this.#inHeader) {
      if (this.#pending !== null && (text.startsWith(' ') || text.startsWith('\t'))) {
        if (this.#pending.length >= this.limits.headerSizeLimit) this.#errors |= MIME_ERR_TRUNC_HEADER;
        else this.#pending += '\n' + text;
        return;
      }
      this.#flushHeader();
      if (isHeaderLine(text)) {
        this.#pending = text;
        return;
      }
      const primary = this.#cls === 'primary';
      this.#endHeaders();
      // Only the primary header block gets an empty line supplied (as Postfix).
      if (text === '' || primary) this.#bodyLine('');
      if (text === '') return;
      // The line that ended the headers is read in the new state: it may be a boundary.
      this.line(text);
      return;
    }
    if (this.#boundary(text)) return;
    this.#bodyLine(text);
  }

  /** End of input: a header still being read is delivered. Returns the error flags. */
  end(): number {
    if (this.#inHeader) {
      this.#flushHeader();
      if (this.#cls === 'primary') this.cb.primaryEnd?.();
    }
    return this.#errors;
  }

  #flushHeader(): void {
    if (this.#pending === null) return;
    // Postfix drops the white space between a header's name and its colon.
    const h = this.#pending.replace(/^([!-9;-~]+)[ \t]+:/, '$1:');
    this.#pending = null;
    if (EIGHT_BIT.test(h)) {
      this.#has8bit = true;
      this.#errors |= MIME_ERR_8BIT_IN_HEADER;
    }
    if (!this.limits.disableMime) {
      const name = headerName(h).toLowerCase();
      const value = h.slice(h.indexOf(':') + 1);
      if (name === 'content-type') this.#contentType(value);
      else if (name === 'content-transfer-encoding') {
        this.#cte = encodingOf(value);
        if (this.#cte === '8bit' || this.#cte === 'binary') this.#declared8bit = true;
      }
    }
    this.cb.header(this.#cls, h);
  }

  /**
   * A Content-Type header. A multipart boundary is opened right here, as
   * Postfix does: a later Content-Type in the same block changes the
   * type of the block but leaves the boundary open.
   */
  #contentType(value: string): void {
    this.#ctype = value;
    const type = parseType(value);
    if (type?.top !== 'multipart') return;
    const b = /boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(value);
    const boundary = b?.[1] ?? b?.[2];
    if (!boundary) return;
    this.#push();
    this.#stack.push({
      boundary: boundary.slice(0, this.limits.boundaryLengthLimit),
      digest: type.sub === 'digest',
      nestedDepth: this.#nestedDepth,
    });
  }

  /** A header block ended; decide what the lines after its empty line are. */
  #endHeaders(): void {
    const cls = this.#cls;
    const cte = this.#cte;
    const digestPart = this.#digestPart;
    const type = parseType(this.#ctype) ?? (digestPart ? { top: 'message', sub: 'rfc822' } : undefined);
    this.#inHeader = false;
    this.#digestPart = false;
    this.#ctype = '';
    this.#cte = '7bit';
    this.#offset = 0;
    if (cls === 'primary') this.cb.primaryEnd?.();
    this.#bodyEnc = cte;
    if (this.limits.disableMime || type === undefined) return;
    if (type.top === 'multipart' || type.top === 'message') {
      if (cte !== '7bit' && cte !== '8bit' && cte !== 'binary') this.#errors |= MIME_ERR_ENCODING_DOMAIN;
    }
    if (type.top === 'message' && (type.sub === 'rfc822' || type.sub === 'global')) {
      this.#push();
      this.#nestedDepth++;
      this.#inHeader = true;
      this.#cls = 'nested';
    }
  }

  /**
   * One more MIME level. Beyond mime_nesting_limit it is flagged (cleanup
   * always rejects that) but still parsed, as Postfix does: postmap -m
   * shows every level's headers whatever the limit.
   */
  #push(): void {
    if (this.#stack.length + this.#nestedDepth >= this.limits.nestingLimit) this.#errors |= MIME_ERR_NESTING;
  }

  /** A boundary line of an open multipart: handled here (it is also a body line). */
  #boundary(text: string): boolean {
    if (this.limits.disableMime || !text.startsWith('--') || this.#stack.length === 0) return false;
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const b = this.#stack[i]!.boundary;
      if (!text.startsWith(b, 2)) continue;
      this.#bodyLine(text);
      // A part (or the end of a multipart) ends every attached message inside it.
      this.#nestedDepth = this.#stack[i]!.nestedDepth;
      if (text.startsWith('--', 2 + b.length)) {
        this.#stack.length = i;
        this.#bodyEnc = '7bit';
        return true;
      }
      this.#stack.length = i + 1;
      this.#digestPart = this.#stack[i]!.digest;
      this.#inHeader = true;
      this.#cls = 'multipart';
      return true;
    }
    return false;
  }

  #bodyLine(text: string): void {
    if (EIGHT_BIT.test(text)) {
      this.#has8bit = true;
      if (this.#bodyEnc === '7bit' && !this.limits.disableMime) this.#errors |= MIME_ERR_8BIT_IN_7BIT_BODY;
    }
    const offset = this.#offset;
    this.#offset += Buffer.byteLength(text) + 1;
    this.cb.body(text, offset);
  }
}

function parseType(value: string): { top: string; sub: string } | undefined {
  const m = /^\s*([^\s;/]+)\s*\/\s*([^\s;]+)/.exec(value);
  return m ? { top: m[1]!.toLowerCase(), sub: m[2]!.toLowerCase() } : undefined;
}

function encodingOf(value: string): Encoding {
  const v = value
    .trim()
    .split(/[\s;(]/, 1)[0]!
    .toLowerCase();
  switch (v) {
    case '7bit':
    case '8bit':
    case 'binary':
    case 'base64':
      return v;
    case 'quoted-printable':
      return 'qp';
    default:
      return 'other';
  }
}
