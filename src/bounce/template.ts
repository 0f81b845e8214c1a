/*
 * template - one bounce(5) message template: headers and message text
 *
 * A template is the text between "name = <<EOF" and "EOF": optional header
 * lines (Charset, From, Subject, Postmaster-Subject; labels in any case),
 * then blank lines, then the message text that opens a delivery status
 * notification. parseTemplate() applies a file's text over a built-in
 * template the way Postfix 3.7 does: headers the text leaves out keep
 * their built-in values; a bad header, missing message text, or 8-bit text
 * under "Charset: us-ascii" is warned about in Postfix's words and the
 * whole text is ignored (the built-in template stays in force).
 *
 * Text is carried as decoded by src/maps/bytes.ts: bytes that are not
 * UTF-8 survive as lone surrogates, and "non-ASCII" means any code unit
 * above 0x7f, as Postfix tests bytes.
 */
import { msg } from '../global/msg.js';

export type TemplateKind = 'failure' | 'delay' | 'success' | 'verify';

/** The four kinds in the order Postfix lists them. */
export const TEMPLATE_KINDS: readonly TemplateKind[] = ['failure', 'delay', 'success', 'verify'];

export interface BounceTemplate {
  readonly kind: TemplateKind;
  /** The file the text came from, or "[built-in]": the prefix of diagnostics. */
  readonly origin: string;
  readonly charset: string;
  readonly from: string;
  readonly subject: string;
  /** Only failure and delay notices have postmaster copies, hence a subject for them. */
  readonly postmasterSubject: string | undefined;
  /** "8bit" when the text holds non-ASCII (allowed only with another charset). */
  readonly encoding: '7bit' | '8bit';
  /** Message text lines, unexpanded. */
  readonly text: readonly string[];
}

const NON_ASCII = /[^\x00-\x7f]/;
/** A header label: printable ASCII but ":" and space, then optional blanks, then ":". */
const HEADER = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;
const BLANK = /^[ \t\n\r\f\v]*$/;

/**
 * Apply `body` (the text of a here-document) over `base`. Returns base
 * unchanged, after a warning, when Postfix would ignore the text.
 */
export function parseTemplate(base: BounceTemplate, origin: string, body: string): BounceTemplate {
  // Empty lines before the headers do not count (lines of white space do).
  const lines = body.replace(/^\n+/, '').split('\n');
  const t = {
    charset: base.charset,
    from: base.from,
    subject: base.subject,
    postmasterSubject: base.postmasterSubject,
  };
  const ignore = (why: string): BounceTemplate => {
    msg.warn(`${origin}: ${why} in ${base.kind} template -- ignoring this template`);
    return base;
  };
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = HEADER.exec(line);
    if (!m) break;
    const label = m[1] as string;
    // The value starts after any run of colons and white space.
    const value = line.slice(label.length).replace(/^[: \t\n\r\f\v]*/, '');
    if (value === '') return ignore(`empty "${label}" header value`);
    if (NON_ASCII.test(value)) return ignore(`non-ASCII "${label}" header value`);
    switch (label.toLowerCase()) {
      case 'charset':
        t.charset = value;
        break;
      case 'from':
        t.from = value;
        break;
      case 'subject':
        t.subject = value;
        break;
      case 'postmaster-subject':
        if (t.postmasterSubject === undefined) return ignore(`inapplicable "${label}" header label`);
        t.postmasterSubject = value;
        break;
      default:
        return ignore(`unknown "${label}" header label`);
    }
  }
  while (i < lines.length && BLANK.test(lines[i] as string)) i++;
  if (i >= lines.length) return ignore('missing message text');
  const text = lines.slice(i);
  const eightBit = text.some((l) => NON_ASCII.test(l));
  if (eightBit && t.charset.toLowerCase() === 'us-ascii') {
    msg.warn(`${origin}: 8-bit message text in ${base.kind} template`);
    msg.warn('please specify a charset value other than us-ascii');
    msg.warn('-- ignoring this template for now');
    return base;
  }
  return { kind: base.kind, origin, ...t, encoding: eightBit ? '8bit' : '7bit', text };
}

/** The template as `postconf -t` shows it (and as a bounce_template_file holds it). */
export function dumpTemplate(t: BounceTemplate): string {
  const head = [`Charset: ${t.charset}`, `From: ${t.from}`, `Subject: ${t.subject}`];
  if (t.postmasterSubject !== undefined) head.push(`Postmaster-Subject: ${t.postmasterSubject}`);
  return [`${t.kind}_template = <<EOF`, ...head, '', ...t.text, 'EOF'].map((l) => `${l}\n`).join('');
}
