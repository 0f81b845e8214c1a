/*
 * master_cf - the master.cf service table, parsed
 *
 * parseMasterCf(text, file) turns master(5) text into typed entries: the
 * eight fields exactly as written (postconf shows them so), the command
 * arguments as the daemon gets them ("{ a b }" becomes "a b",
 * "-oname=value" becomes "-o", "name=value"), and the "-o"
 * parameter overrides as (name, value) pairs. A bad row is a MasterCfError
 * carrying Postfix's words ("file /etc/postfix/master.cf: line 7: bad field
 * count", 'invalid chroot field "x" in "..."'); questionable "-o" or brace
 * syntax is a warning through the onWarning callback, as Postfix warns.
 * resolveEntry() applies master(5) defaults for the master daemon.
 *
 * Duplicate name/type pairs are kept: postconf shows every row, and master
 * keeps the last one (lastOfEach()).
 */
import { readFileSync } from 'node:fs';
import { strerror } from '../util/strerror.js';
import {
  classifyLine,
  type PhysicalLine,
  printable,
  splitBraced,
  splitNameValue,
  splitPhysicalLines,
  unbrace,
} from './master_cf_tokens.js';

export const SERVICE_TYPES = ['inet', 'unix', 'unix-dgram', 'fifo', 'pass'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export function isServiceType(s: string): s is ServiceType {
  return (SERVICE_TYPES as readonly string[]).includes(s);
}

/** postconf -F names of the eight fields, in file order. */
export const FIELD_NAMES = [
  'service',
  'type',
  'private',
  'unprivileged',
  'chroot',
  'wakeup',
  'process_limit',
  'command',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

export interface ServiceParam {
  readonly name: string;
  readonly value: string;
}

export interface MasterEntry {
  /** First physical line (1-based) and last one, comments inside included. */
  readonly line: number;
  readonly lastLine: number;
  /** Fields 1-7 as written: name, type, private, unprivileged, chroot, wakeup, process_limit. */
  readonly name: string;
  readonly type: ServiceType;
  readonly private: string;
  readonly unprivileged: string;
  readonly chroot: string;
  readonly wakeup: string;
  readonly processLimit: string;
  /** Field 8 and the arguments after it, normalized. */
  readonly command: string;
  readonly args: readonly string[];
  /** The "-o name=value" settings in the option part of args, in order (duplicates kept). */
  readonly params: readonly ServiceParam[];
}

export interface MasterCf {
  readonly file: string;
  readonly lines: readonly PhysicalLine[];
  readonly entries: readonly MasterEntry[];
}

export class MasterCfError extends Error {}

export type WarningSink = (text: string) => void;

/** Postfix says "master.cf" here, not the full path. */
const WARN_CONTEXT = 'master.cf';

/** y, n, or "-" for the default (postconf -Fe also lets an empty value through). */
function isBoolField(s: string): boolean {
  return s === 'y' || s === 'n' || s === '-' || s === '';
}

/** "-" or digits, either optionally followed by "?" (wake up only once used). */
export function isWakeupField(s: string): boolean {
  const t = s.endsWith('?') ? s.slice(0, -1) : s;
  return t === '-' || /^[0-9]*$/.test(t);
}

export function isProcessLimitField(s: string): boolean {
  return s === '-' || /^[0-9]*$/.test(s);
}

/**
 * Check one field value; the error text is Postfix's, with `context` as the
 * text shown after "in" (the logical line, or the value being edited).
 */
export function checkField(field: FieldName, value: string, context: string): string | null {
  const ok =
    field === 'type'
      ? isServiceType(value)
      : field === 'private' || field === 'unprivileged' || field === 'chroot'
        ? isBoolField(value)
        : field === 'wakeup'
          ? isWakeupField(value)
          : field === 'process_limit'
            ? isProcessLimitField(value)
            : true;
  return ok ? null : `invalid ${field} field "${printable(value)}" in "${printable(context)}"`;
}

/**
 * Normalize the arguments after the command name. Options ("-x") come
 * first; the first other word (or "--") ends them, and only "-o" inside
 * that part sets parameters, as daemons parse their command line.
 */
export function normalizeArgs(
  raw: readonly string[],
  warn: WarningSink,
): { args: string[]; params: ServiceParam[] } {
  const flat = splitAttachedSettings(raw);
  const args: string[] = [];
  const params: ServiceParam[] = [];
  let options = true;
  for (let i = 0; i < flat.length; i++) {
    const arg = flat[i]!;
    if (options && (!arg.startsWith('-') || arg === '--')) options = false;
    if (options && arg === '-o') {
      args.push(arg);
      if (i + 1 < flat.length) args.push(normalizeSetting(flat[++i]!, params, warn));
      continue;
    }
    if (!options && arg.startsWith('{')) {
      const u = unbrace(arg);
      if (u.warning) warn(`${WARN_CONTEXT}: ${u.warning}`);
      args.push(u.text);
      continue;
    }
    args.push(arg);
  }
  return { args, params };
}

/**
 * "-oname=value" -> "-o", "name=value". Like Postfix, each further "o" in
 * the word starts another "-o" ("-osyslog_name=x" is "-o sysl -o g_name=x"),
 * and a "-o" left without text takes the next word as its value.
 */
function splitAttachedSettings(raw: readonly string[]): string[] {
  const out: string[] = [];
  let options = true;
  let needValue = false;
  for (const arg of raw) {
    if (needValue) {
      out.push(arg);
      needValue = false;
      continue;
    }
    if (options && (!arg.startsWith('-') || arg === '--')) options = false;
    if (!options || !arg.startsWith('-o')) {
      out.push(arg);
      continue;
    }
    for (const seg of arg.slice(2).split('o')) {
      out.push('-o');
      needValue = !needValue;
      if (seg !== '' && needValue) {
        out.push(seg);
        needValue = false;
      }
    }
  }
  return out;
}

/** One "-o" value: "name=value" or "{ name = value }". Returns it without braces. */
function normalizeSetting(value: string, params: ServiceParam[], warn: WarningSink): string {
  if (value.startsWith('{')) {
    const u = unbrace(value);
    if (u.warning) warn(`${WARN_CONTEXT}: ${u.warning}`);
    const nv = splitNameValue(u.text);
    if (nv.kind === 'error') {
      warn(`${WARN_CONTEXT}: ${nv.message}: "${u.text}"`);
      return u.text;
    }
    params.push({ name: nv.name, value: nv.value });
    return `${nv.name}=${nv.value}`;
  }
  const eq = value.indexOf('=');
  if (eq > 0) params.push({ name: value.slice(0, eq), value: value.slice(eq + 1) });
  return value;
}

/**
 * Parse the fields of one logical line (or of a "postconf -Me" value).
 * Returns Postfix's error text for a bad row without file context, or
 * "bad field count" which the caller words with file and line.
 */
export function parseEntryText(
  text: string,
  warn: WarningSink,
):
  | {
      kind: 'ok';
      fields: Omit<MasterEntry, 'line' | 'lastLine'>;
    }
  | { kind: 'count' }
  | { kind: 'error'; message: string } {
  const tokens = splitBraced(text);
  if (tokens.length < FIELD_NAMES.length) return { kind: 'count' };
  for (let f = 1; f < 7; f++) {
    const err = checkField(FIELD_NAMES[f]!, tokens[f]!, text);
    if (err) return { kind: 'error', message: err };
  }
  const { args, params } = normalizeArgs(tokens.slice(8), warn);
  return {
    kind: 'ok',
    fields: {
      name: tokens[0]!,
      type: tokens[1] as ServiceType,
      private: tokens[2]!,
      unprivileged: tokens[3]!,
      chroot: tokens[4]!,
      wakeup: tokens[5]!,
      processLimit: tokens[6]!,
      command: tokens[7]!,
      args,
      params,
    },
  };
}

/**
 * Parse master.cf text. `file` is used in messages as given
 * ("<config_directory>/master.cf"). Throws MasterCfError on a bad row.
 */
export function parseMasterCf(text: string, file: string, onWarning: WarningSink = () => {}): MasterCf {
  const lines = splitPhysicalLines(text);
  const entries: MasterEntry[] = [];
  for (const row of logicalLines(lines)) {
    if (row.orphan) {
      onWarning(`${file}: logical line must not start with whitespace: "${printable(row.text)}"`);
      continue;
    }
    entries.push(parseRow(row, file, onWarning));
  }
  return { file, lines, entries };
}

/** One logical line: a first line, its continuations, the comments among them. */
export interface LogicalLine {
  /** First and last physical line, 1-based. */
  readonly line: number;
  readonly lastLine: number;
  /** The lines joined as Postfix joins them (each keeps its leading blanks). */
  readonly text: string;
  /** Starts with whitespace: nothing to continue (Postfix warns and skips it). */
  readonly orphan: boolean;
}

export function logicalLines(lines: readonly PhysicalLine[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    if (first.kind === 'comment') {
      i++;
      continue;
    }
    let text = first.text;
    let last = i;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.kind === 'start') break;
      if (l.kind === 'continue') {
        text += l.text;
        last = j;
      }
    }
    out.push({ line: i + 1, lastLine: last + 1, text, orphan: first.kind === 'continue' });
    i = j;
  }
  return out;
}

/** Parse one logical line into an entry; MasterCfError with Postfix's words when it is bad. */
export function parseRow(row: LogicalLine, file: string, onWarning: WarningSink): MasterEntry {
  const r = parseEntryText(row.text, onWarning);
  if (r.kind === 'count') throw new MasterCfError(`file ${file}: line ${row.line}: bad field count`);
  if (r.kind === 'error') throw new MasterCfError(r.message);
  return { line: row.line, lastLine: row.lastLine, ...r.fields };
}

export function masterCfPath(configDir: string): string {
  return `${configDir}/master.cf`;
}

/** Read and parse <configDir>/master.cf; I/O errors are MasterCfError "open <file>: <reason>". */
export function readMasterCf(configDir: string, onWarning?: WarningSink): MasterCf {
  const file = masterCfPath(configDir);
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    // Postfix opens a directory fine and reads nothing from it.
    if ((e as NodeJS.ErrnoException).code !== 'EISDIR')
      throw new MasterCfError(`open ${file}: ${strerror(e)}`);
    text = '';
  }
  return parseMasterCf(text, file, onWarning);
}

/** The "-o" settings of an entry with later ones winning, sorted by name (postconf -P order). */
export function serviceParameters(entry: Pick<MasterEntry, 'params'>): ServiceParam[] {
  const last = new Map<string, string>();
  for (const p of entry.params) last.set(p.name, p.value);
  return [...last]
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** master(8) keeps the last definition of each name/type. */
export function lastOfEach(entries: readonly MasterEntry[]): MasterEntry[] {
  const byKey = new Map<string, MasterEntry>();
  for (const e of entries) {
    const key = `${e.name}/${e.type}`;
    byKey.delete(key);
    byKey.set(key, e);
  }
  return [...byKey.values()];
}

// ---------------------------------------------------------------------------
// Defaults and endpoints, for the master daemon.

export type Endpoint =
  | { readonly kind: 'inet'; readonly host: string | null; readonly port: string }
  | { readonly kind: 'local'; readonly path: string };

export interface ResolvedService {
  readonly entry: MasterEntry;
  readonly private: boolean;
  readonly unprivileged: boolean;
  readonly chroot: boolean;
  /** Seconds between wake-up events; 0 for none. */
  readonly wakeupSeconds: number;
  /** Only once the service has been used ("?" suffix). */
  readonly wakeupWhenUsed: boolean;
  /** 0 means no limit. */
  readonly processLimit: number;
  readonly endpoint: Endpoint;
}

/**
 * host:port, [host]:port, or port alone (host from inet_interfaces). The
 * last ":" separates the port, so "::1:smtp" is host ::1, port smtp.
 */
export function parseInetName(name: string): { host: string | null; port: string } | { error: string } {
  let host: string | null = null;
  let port = name;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return { error: `missing "]" in "${name}"` };
    if (name[close + 1] !== ':') return { error: `garbage after "]" in "${name}"` };
    host = name.slice(1, close);
    port = name.slice(close + 2);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon >= 0) {
      host = name.slice(0, colon);
      port = name.slice(colon + 1);
    }
  }
  if (port === '') return { error: `missing port in "${name}"` };
  return { host: host === '' ? null : host, port };
}

/** The effective settings of one entry; `defaultProcessLimit` is $default_process_limit. */
export function resolveEntry(file: string, entry: MasterEntry, defaultProcessLimit: number): ResolvedService {
  const where = `${file}: line ${entry.line}`;
  const bool = (v: string, dflt: boolean) => (v === '-' ? dflt : v === 'y');
  const priv = bool(entry.private, true);
  let endpoint: Endpoint;
  if (entry.type === 'inet') {
    if (priv) throw new MasterCfError(`${where}: inet service cannot be private`);
    const hp = parseInetName(entry.name);
    if ('error' in hp) throw new MasterCfError(`${where}: ${hp.error}`);
    endpoint = { kind: 'inet', host: hp.host, port: hp.port };
  } else {
    endpoint = { kind: 'local', path: `${priv ? 'private' : 'public'}/${entry.name}` };
  }
  const w = entry.wakeup.endsWith('?') ? entry.wakeup.slice(0, -1) : entry.wakeup;
  const wakeupSeconds = w === '-' || w === '' ? 0 : Number.parseInt(w, 10);
  return {
    entry,
    private: priv,
    unprivileged: bool(entry.unprivileged, true),
    chroot: bool(entry.chroot, false),
    wakeupSeconds,
    wakeupWhenUsed: wakeupSeconds > 0 && entry.wakeup.endsWith('?'),
    processLimit: entry.processLimit === '-' ? defaultProcessLimit : Number.parseInt(entry.processLimit, 10),
    endpoint,
  };
}

export { classifyLine };
