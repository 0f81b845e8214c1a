/*
 * master_cf_print - master.cf entries and settings as postconf prints them
 *
 * The eight fields go in fixed columns (name at 0, type at 11, the flags at
 * 17, 25, 33, 41, 49, the command at 57; a long field pushes the rest one
 * blank further). With folding (-f, and always when postconf rewrites an
 * entry), every "-o name=value" in the option part of the arguments gets a
 * line of its own, and other words wrap before column 80 with a four-space
 * indent. A single word longer than a line is never broken.
 */
import type { MasterEntry } from './master_cf.js';
import { hasBlank, splitNameValue } from './master_cf_tokens.js';

export const LINE_LIMIT = 80;
export const INDENT = '    ';
const COLUMNS = [0, 11, 17, 25, 33, 41, 49, 57];

/** The eight fields of an entry, in file order. */
export function entryFields(e: Omit<MasterEntry, 'line' | 'lastLine' | 'params'>): string[] {
  return [e.name, e.type, e.private, e.unprivileged, e.chroot, e.wakeup, e.processLimit, e.command];
}

interface Piece {
  /** As shown: an argument with blanks in braces, except the first one (Postfix's quirk). */
  readonly text: string;
  /** Postfix measures an argument without the braces it adds. */
  readonly width: number;
  /** A "-o value" pair inside the option part. */
  readonly pair: boolean;
}

function shown(arg: string, index: number): string {
  return index > 0 && hasBlank(arg) ? `{${arg}}` : arg;
}

/** Group the arguments as the printer sees them: "-o value" pairs stay together. */
function pieces(args: readonly string[]): Piece[] {
  const out: Piece[] = [];
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (options && (!arg.startsWith('-') || arg === '--')) options = false;
    if (options && arg === '-o' && i + 1 < args.length) {
      const value = args[++i]!;
      out.push({ text: `-o ${shown(value, i)}`, width: 3 + value.length, pair: true });
    } else {
      out.push({ text: shown(arg, i), width: arg.length, pair: false });
    }
  }
  return out;
}

/**
 * Append arguments to the text already on the line. `glueFirst` reproduces
 * postconf -Fh, which prints no blank between the command and a first
 * argument that is not an option, and never folds there.
 */
function appendArgs(start: string, args: readonly string[], fold: boolean, glueFirst = false): string {
  const lines: string[] = [];
  let cur = start;
  let afterPair = false;
  pieces(args).forEach((p, n) => {
    const glued = glueFirst && n === 0 && !p.text.startsWith('-');
    const sep = glued ? '' : ' ';
    if (!fold || glued) {
      cur += sep + p.text;
    } else if (p.pair || afterPair || cur.length + 1 + p.width >= LINE_LIMIT) {
      lines.push(cur);
      cur = INDENT + p.text;
    } else {
      cur += sep + p.text;
    }
    afterPair = p.pair;
  });
  lines.push(cur);
  return lines.join('\n');
}

/** One entry as postconf -M prints it (without the final newline). */
export function formatEntry(fields: readonly string[], args: readonly string[], fold: boolean): string {
  let line = '';
  fields.forEach((text, i) => {
    if (line.length > 0) {
      do line += ' ';
      while (line.length < COLUMNS[i]!);
    }
    line += text;
  });
  return appendArgs(line, args, fold);
}

/** The command field for postconf -F: "prefix" is "name = ", or empty with -h. */
export function formatCommand(
  prefix: string,
  command: string,
  args: readonly string[],
  fold: boolean,
): string {
  return appendArgs(prefix + command, args, fold, prefix === '');
}

/**
 * A "name = value" line as postconf prints settings: words separated by
 * single blanks, folded before column 80 when asked.
 */
export function formatWords(text: string, fold: boolean): string {
  const words = text.split(/[ \t\r\n]+/).filter((w) => w !== '');
  let out = '';
  let lineLen = 0;
  for (const w of words) {
    if (lineLen > 0) {
      if (fold && lineLen + 1 + w.length >= LINE_LIMIT) {
        out += `\n${INDENT}`;
        lineLen = INDENT.length;
      } else {
        out += ' ';
        lineLen += 1;
      }
    }
    out += w;
    lineLen += w.length;
  }
  return out;
}

/**
 * Rewrite the "-o" values in the option part of normalized arguments,
 * e.g. to show them with $name expanded (postconf -Mx).
 */
export function mapSettings(args: readonly string[], f: (name: string, value: string) => string): string[] {
  const out: string[] = [];
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (options && (!arg.startsWith('-') || arg === '--')) options = false;
    out.push(arg);
    if (options && arg === '-o' && i + 1 < args.length) {
      const setting = args[++i]!;
      const nv = splitNameValue(setting);
      out.push(nv.kind === 'ok' ? `${nv.name}=${f(nv.name, nv.value)}` : setting);
    }
  }
  return out;
}
