/*
 * postmap_mime - lookup keys from a message, for postmap -q - with -h/-b
 *
 * Turns the lines of an RFC 5322 message into the keys header_checks and
 * body_checks would see, using cleanup's own content parser
 * (src/cleanup/mime_state.ts), so postmap -h/-b/-m shows exactly what
 * cleanup's checks get: each logical header (continuation lines joined
 * with "\n") with -h, each body line with -b. Without -m only the
 * message's own headers are headers (MIME processing off); with -m the
 * headers of every multipart part and attached message are headers too.
 * One pass, one line at a time.
 */
import { type MimeLimits, MimeState } from '../cleanup/mime_state.js';

export interface MimeOptions {
  readonly header: boolean;
  readonly body: boolean;
  readonly mime: boolean;
  /** From main.cf (header_size_limit, ...); Postfix's defaults otherwise. */
  readonly limits?: Omit<MimeLimits, 'disableMime'>;
}

const DEFAULT_LIMITS = { headerSizeLimit: 102400, nestingLimit: 100, boundaryLengthLimit: 2048 };

/** Consumes lines (without newline) and emits lookup keys through `emit`. */
export class MessageKeys {
  readonly #parser: MimeState;
  #done = false;

  constructor(
    readonly opts: MimeOptions,
    readonly emit: (key: string) => void,
  ) {
    const limits = { ...(opts.limits ?? DEFAULT_LIMITS), disableMime: !opts.mime };
    this.#parser = new MimeState(limits, {
      header: (_cls, text) => {
        if (opts.header) emit(text);
      },
      // With -h alone and no MIME, nothing after the primary headers matters.
      primaryEnd: () => {
        if (!opts.body && !opts.mime) this.#done = true;
      },
      body: (text) => {
        if (opts.body) emit(text);
      },
    });
  }

  line(text: string): void {
    if (!this.#done) this.#parser.line(text);
  }

  end(): void {
    if (!this.#done) this.#parser.end();
  }
}
