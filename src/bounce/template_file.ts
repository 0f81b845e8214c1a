/*
 * template_file - read a bounce_template_file (bounce(5) format)
 *
 * The file is a list of "name = value" lines, where a value "<<MARKER"
 * opens a here-document that ends at a line that is exactly MARKER.
 * Outside here-documents, blank lines and lines whose first non-blank
 * character is "#" are skipped; there are no continuation lines. Inside,
 * every line is taken literally.
 *
 * Diagnostics are Postfix 3.7's, including its line numbers (one past the
 * last line the entry used): a line without "=" or without a name and a
 * "<<" without a marker are fatal; a here-document cut off by the end of
 * the file is used anyway after a warning (a last, unterminated line that
 * equals the marker is dropped); an unknown template name is warned about
 * and skipped. A later template of the same name replaces an earlier one.
 */
import { readFileSync } from 'node:fs';
import { splitNameValue } from '../global/config.js';
import { msg } from '../global/msg.js';
import { decodeBytes } from '../maps/bytes.js';
import { TEMPLATE_KINDS, type TemplateKind } from './template.js';

const SKIP = /^[ \t\n\r\f\v]*(#|$)/;

/** name -> here-document text (lines joined by "\n"), for the four known names. */
export function parseTemplateFile(text: string, file: string): Map<TemplateKind, string> {
  const lines = text.split('\n');
  // A trailing newline ends the last line; it does not start another.
  const terminated = lines.at(-1) === '';
  if (terminated) lines.pop();
  const out = new Map<TemplateKind, string>();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++] as string;
    if (SKIP.test(line)) continue;
    const nv = splitNameValue(line);
    if (typeof nv === 'string') return msg.fatal(`${file}, line ${i + 1}: ${nv}: "${line}"`);
    let value = nv.value;
    if (value.startsWith('<<')) {
      const marker = value.slice(2).replace(/^[ \t\n\r\f\v]+/, '');
      if (marker === '') return msg.fatal(`${file}, line ${i + 1}: missing end marker after <<`);
      const body: string[] = [];
      let closed = false;
      while (i < lines.length) {
        const l = lines[i++] as string;
        const last = i === lines.length && !terminated;
        if (l === marker && !last) {
          closed = true;
          break;
        }
        if (l !== marker) body.push(l);
      }
      if (!closed) msg.warn(`${file}, line ${i + 1}: missing "${marker}" end marker`);
      value = body.join('\n');
    }
    const kind = templateKind(nv.name);
    if (kind === undefined) {
      msg.warn(`${file}, line ${i + 1}: unknown template name: ${nv.name} -- ignoring this template`);
      continue;
    }
    out.set(kind, value);
  }
  return out;
}

function templateKind(name: string): TemplateKind | undefined {
  return TEMPLATE_KINDS.find((k) => name === `${k}_template`);
}

/** Read and parse the file; "open FILE: reason" is fatal as in Postfix. */
export function readTemplateFile(file: string): Map<TemplateKind, string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const op = err.code === 'EISDIR' ? 'read' : 'open';
    return msg.fatal(`${op} ${file}: ${strerror(err)}`);
  }
  return parseTemplateFile(decodeBytes(bytes), file);
}

function strerror(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    default:
      return err.message;
  }
}
