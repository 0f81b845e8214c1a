/*
 * main_cf_edit - change main.cf in place, as postconf -e, -X and -# do
 *
 * The file is edited line by line so that everything the administrator
 * wrote stays: comments, blank lines, order, spacing of the entries not
 * touched. An entry is its first line plus the lines that continue it
 * (lines starting with whitespace); comment and blank lines in between are
 * kept and do not end the entry, exactly as main.cf is read. For each entry
 * whose name is edited:
 *   -e  every occurrence becomes one "name = value" line, in place; names
 *       that do not occur are appended at the end, in command-line order
 *       (Postfix appends them in hash-table order, which is random).
 *   -X  every occurrence is removed, continuation lines included.
 *   -#  every line of every occurrence gets a "#" in front.
 * Lines not edited keep their bytes, a missing final newline included.
 * The result is written to main.cf.tmp, synced, renamed over main.cf and
 * the directory synced: a crash leaves the old file or the new one, never
 * a mix. The new file has mode 0644 (less the umask), as with Postfix.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from '../util/atomic_file.js';
import { strerror } from '../util/strerror.js';
import { msg } from './msg.js';

export type MainCfEdit =
  | { readonly kind: 'set'; readonly settings: ReadonlyMap<string, string> }
  | { readonly kind: 'remove' | 'comment'; readonly names: ReadonlySet<string> };

/** The name an entry line sets: up to whitespace or "=". */
function entryName(line: string): string {
  return /^[^\s=]*/.exec(line)?.[0] ?? '';
}

/**
 * Parse "name=value" / "name = value" from the command line. Returns the
 * text after "fatal: " when the argument is malformed.
 */
export function splitNameValue(arg: string): { name: string; value: string } | { error: string } {
  const text = arg.replace(/^\s+/, '');
  const m = /^([^\s=]*)\s*/.exec(text);
  const name = m?.[1] ?? '';
  if (name === '') return { error: `missing attribute name: "${text}"` };
  const rest = text.slice(m?.[0].length ?? 0);
  if (rest[0] !== '=') return { error: `missing '=' after attribute name: "${text}"` };
  return { name, value: rest.slice(1).trim() };
}

/** The edited text of main.cf; also reports names that occur more than once. */
export function editMainCfText(file: string, text: string, edit: MainCfEdit): string {
  const wanted = edit.kind === 'set' ? new Set(edit.settings.keys()) : edit.names;
  const seen = new Map<string, number>();
  const out: string[] = [];
  let inEdited = false;
  // Each element keeps its own "\n" (the last one may have none).
  const lines = text.split(/(?<=\n)/).filter((l) => l !== '');
  for (const line of lines) {
    if (/^\s*(#|$)/.test(line)) {
      out.push(line);
      continue;
    }
    if (/^\s/.test(line)) {
      if (!inEdited) out.push(line);
      else if (edit.kind === 'comment') out.push(`#${line}`);
      continue;
    }
    const name = entryName(line);
    inEdited = wanted.has(name);
    if (!inEdited) {
      out.push(line);
      continue;
    }
    seen.set(name, (seen.get(name) ?? 0) + 1);
    if (edit.kind === 'set') out.push(`${name} = ${edit.settings.get(name)}\n`);
    else if (edit.kind === 'comment') out.push(`#${line}`);
  }
  for (const [name, count] of seen) {
    if (count > 1) msg.warn(`${file}: multiple entries for "${name}"`);
  }
  if (edit.kind === 'set') {
    const added = [...edit.settings].filter(([name]) => !seen.has(name));
    // Postfix glues a new entry onto a last line that lacks its newline; we do not.
    const last = out[out.length - 1];
    if (added.length > 0 && last !== undefined && !last.endsWith('\n')) out[out.length - 1] = `${last}\n`;
    for (const [name, value] of added) out.push(`${name} = ${value}\n`);
  }
  return out.join('');
}

/** Edit <configDir>/main.cf in place; failures are fatal in Postfix's words. */
export function editMainCf(configDir: string, edit: MainCfEdit): void {
  const file = `${configDir}/main.cf`;
  const tmp = `${file}.tmp`;
  // The temporary file comes first, as in Postfix: a missing directory is reported as its open error.
  const fd = openTemp(tmp);
  const result = editMainCfText(file, readForEdit(file, tmp), edit);
  try {
    writeSync(fd, Buffer.from(result, 'latin1'));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    unlinkQuietly(tmp);
    msg.fatal(`write ${tmp}: ${strerror(e)}`);
  }
  syncDirectory(dirname(file));
}

function readForEdit(file: string, tmp: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (e) {
    unlinkQuietly(tmp);
    return msg.fatal(`open ${file} for reading: ${strerror(e)}`);
  }
}

function openTemp(tmp: string): number {
  try {
    return openSync(tmp, 'w', 0o644);
  } catch (e) {
    return msg.fatal(`open ${tmp}: ${strerror(e)}`);
  }
}

function unlinkQuietly(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // Nothing more to undo: main.cf itself was never touched.
  }
}
