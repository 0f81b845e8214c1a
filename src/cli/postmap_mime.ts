/*
 * postmap_mime - lookup keys from a message, for postmap -q - with -h/-b
 *
 * Turns the lines of an RFC 5322 message into the keys header_checks and
 * body_checks would see: each logical header (continuation lines kept,
 * joined with "\n") with -h, each body line with -b. The empty line that
 * ends the headers is the first body line; a header section cut short by
 * a non-header line gets that empty line supplied, as Postfix does.
 * Without -m only the message's own headers count as headers; with -m
 * (MIME) the headers of every multipart part and of attached message/*
 * are header keys, not body lines. One pass, one line at a time.
 */

export interface MimeOptions {
  readonly header: boolean;
  readonly body: boolean;
  readonly mime: boolean;
}

const HEADER_START = /^[!-9;-~]+[ \t]*:/;

/** Consumes lines (without newline) and emits lookup keys through `emit`. */
export class MessageKeys {
  #state: 'header' | 'body' | 'done' = 'header';
  #nested = false; // in part or attached-message headers (-m only)
  #pending: string | null = null; // the logical header being read
  #ctype = '';
  readonly #boundaries: string[] = [];

  constructor(
    readonly opts: MimeOptions,
    readonly emit: (key: string) => void,
  ) {}

  line(text: string): void {
    if (this.#state === 'done') return;
    if (this.#state === 'header') {
      if (this.#pending !== null && (text.startsWith(' ') || text.startsWith('\t'))) {
        this.#pending += '\n' + text;
        return;
      }
      this.#flushHeader();
      if (HEADER_START.test(text)) {
        this.#pending = text;
        return;
      }
      this.#endHeaders();
      if ((this.#state as string) === 'done' || text === '') return;
    }
    this.#bodyLine(text);
  }

  end(): void {
    if (this.#state === 'header') this.#flushHeader();
  }

  #flushHeader(): void {
    if (this.#pending === null) return;
    const h = this.#pending;
    this.#pending = null;
    if (this.opts.header && (!this.#nested || this.opts.mime)) this.emit(h);
    if (this.opts.mime && /^content-type[ \t]*:/i.test(h)) this.#ctype = h.slice(h.indexOf(':') + 1);
  }

  /** The empty line after a header block (or one supplied for it). */
  #endHeaders(): void {
    const ctype = this.#ctype;
    this.#ctype = '';
    if (!this.opts.body && !this.opts.mime) {
      this.#state = 'done';
      return;
    }
    if (this.opts.body) this.emit('');
    this.#state = 'body';
    if (!this.opts.mime) return;
    const type = /^\s*([^\s;/]+)\s*\/\s*([^\s;]+)/.exec(ctype);
    const top = type?.[1]?.toLowerCase();
    if (top === 'multipart') {
      const b = /boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(ctype);
      const boundary = b?.[1] ?? b?.[2];
      if (boundary) this.#boundaries.push(boundary);
    } else if (top === 'message' && this.#nested) {
      this.#state = 'header'; // an attached message's own headers follow
    }
  }

  #bodyLine(text: string): void {
    if (this.opts.mime && text.startsWith('--')) {
      for (let i = this.#boundaries.length - 1; i >= 0; i--) {
        const b = this.#boundaries[i]!;
        if (!text.startsWith(b, 2)) continue;
        const rest = text.slice(2 + b.length).trimEnd();
        if (rest === '--') {
          this.#boundaries.length = i;
          break;
        }
        if (rest === '') {
          this.#boundaries.length = i + 1;
          if (this.opts.body) this.emit(text);
          this.#state = 'header';
          this.#nested = true;
          return;
        }
      }
    }
    if (this.opts.body) this.emit(text);
  }
}
