/*
 * NAME
 *	postconf_master - postconf -M, -F and -P: show and edit master.cf
 * SYNOPSIS
 *	postconf -M [-fx] [service[/type] ...]
 *	postconf -M [-e] service/type=entry ...    postconf -M# | -MX service/type ...
 *	postconf -F [-fhHx] [service[/type[/field]] ...]
 *	postconf -F [-e] service/type/field=value ...
 *	postconf -P [-fhHx] [service[/type[/parameter]] ...]
 *	postconf -P [-e] service/type/parameter=value ...    postconf -PX service/type/parameter ...
 * DESCRIPTION
 *	Called by postconf(1) (src/cli/postconf.ts) for the master.cf modes.
 *	Output, warnings and fatal errors are Postfix 3.7's, byte for byte:
 *	-M prints entries in columns (folded with -f), -F prints
 *	"service/type/field = value" for the eight fields, -P prints the "-o"
 *	settings sorted by name, the last of each name winning. "*" or an
 *	omitted trailing part matches anything; an operand that matches
 *	nothing is a warning ("unmatched request"). -x expands $name in "-o"
 *	values with the service's own settings visible first.
 *	Shown entries are followed, as in Postfix, by the warnings about
 *	"-o" settings that nothing uses; undefined $names in "-o" values
 *	and in main.cf come before the output (postconf_main.ts checks both).
 *	An operand with "=" edits (as -e). Edits check every operand before
 *	the file is read, then write a new master.cf next to the old one
 *	(sync, rename): untouched lines and comments stay as they are.
 * DIAGNOSTICS
 *	Exit status 0, or 1 after a fatal error (through msg.fatal).
 * FILES
 *	$config_directory/master.cf
 * SEE ALSO
 *	master(5), postconf(1)
 */

import { readFileSync } from 'node:fs';
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import {
  FIELD_NAMES,
  type FieldName,
  logicalLines,
  type MasterCf,
  MasterCfError,
  type MasterEntry,
  masterCfPath,
  parseEntryText,
  parseRow,
  readMasterCf,
  serviceParameters,
} from '../master/master_cf.js';
import {
  EditError,
  type EditPlan,
  type EntryText,
  editMasterCf,
  type ServicePattern,
  writeMasterCf,
} from '../master/master_cf_edit.js';
import { expandForService, serviceScope } from '../master/master_cf_expand.js';
import {
  entryFields,
  formatCommand,
  formatEntry,
  formatWords,
  mapSettings,
} from '../master/master_cf_print.js';
import { hasBlank, printable, splitNameValue, splitPhysicalLines } from '../master/master_cf_tokens.js';
import { strerror } from '../util/strerror.js';
import { checkParameters } from './postconf_main.js';

export interface PostconfMasterArgs {
  readonly mode: 'M' | 'F' | 'P';
  readonly edit: 'none' | 'e' | 'X' | '#';
  readonly fold: boolean /* -f */;
  readonly noNames: boolean /* -h */;
  readonly noValues: boolean /* -H */;
  readonly expand: boolean /* -x */;
  readonly showDefaults: boolean /* -d */;
  readonly nonDefault: boolean /* -n */;
  readonly operands: readonly string[];
  readonly config: MainConfig;
  /** Where output goes (tests); default process.stdout. */
  readonly write?: (text: string) => void;
}

type Flag = 'd' | 'e' | 'f' | 'h' | 'H' | 'n' | 'x' | 'X' | '#';
/** The order in which postconf names options in its complaints. */
const FLAG_ORDER: readonly Flag[] = ['d', 'e', 'f', 'h', 'H', 'n', 'x', 'X', '#'];
const EDITS: readonly Flag[] = ['e', 'X', '#'];

/** Option conflicts, checked in postconf's order: [either side, other side] or one mutual set. */
const CONFLICTS: readonly (readonly [readonly Flag[], readonly Flag[] | null])[] = [
  [['d', 'e', 'n', 'X', '#'], null],
  [EDITS, ['f']],
  [EDITS, ['x']],
  [EDITS, ['h', 'H']],
  [['h', 'H'], null],
];
const FORBIDDEN: Record<PostconfMasterArgs['mode'], readonly Flag[]> = {
  M: ['d', 'h', 'H', 'n'],
  F: ['d', 'n', 'X', '#'],
  P: ['d', 'n', '#'],
};

function named(flags: ReadonlySet<Flag>, among: readonly Flag[]): string {
  return FLAG_ORDER.filter((f) => flags.has(f) && among.includes(f))
    .map((f) => `-${f}`)
    .join(' ');
}

function checkOptions(a: PostconfMasterArgs, operands: readonly string[]): 'none' | 'e' | 'X' | '#' {
  const flags = new Set<Flag>();
  if (a.showDefaults) flags.add('d');
  if (a.edit !== 'none') flags.add(a.edit);
  if (operands.some((o) => o.includes('='))) flags.add('e');
  if (a.fold) flags.add('f');
  if (a.noNames) flags.add('h');
  if (a.noValues) flags.add('H');
  if (a.nonDefault) flags.add('n');
  if (a.expand) flags.add('x');
  for (const [one, other] of CONFLICTS) {
    const set = other === null ? one : [...one, ...other];
    const hit =
      other === null
        ? one.filter((f) => flags.has(f)).length > 1
        : one.some((f) => flags.has(f)) && other.some((f) => flags.has(f));
    if (hit) msg.fatal(`specify one of ${named(flags, set)}`);
  }
  const bad = named(flags, FORBIDDEN[a.mode]);
  if (bad) msg.fatal(`with option -${a.mode}, do not specify ${bad}`);
  return flags.has('e') ? 'e' : flags.has('X') ? 'X' : flags.has('#') ? '#' : 'none';
}

/** "a/b/c" -> parts; "*" alone is a wildcard, empty parts are skipped, a leading "/" is wrong. */
function splitPattern(text: string, min: number, max: number): string[] | null {
  if (text.startsWith('/')) return null;
  const parts = text.split('/').filter((p) => p !== '');
  if (parts.length < min || parts.length > max) return null;
  if (parts.some((p) => p !== '*' && p.includes('*'))) return null;
  return parts;
}

interface Query {
  readonly text: string;
  readonly name: string;
  readonly type: string;
  readonly last: string;
  matched: boolean;
}

const QUERY_USAGE: Record<PostconfMasterArgs['mode'], string> = {
  M: '-M option requires service_name[/type]',
  F: '-F option requires service_name[/type[/field]]',
  P: '-P option requires service_name[/type[/parameter]]',
};

function parseQueries(mode: PostconfMasterArgs['mode'], operands: readonly string[]): Query[] {
  return operands.map((text) => {
    const parts = splitPattern(text, 1, mode === 'M' ? 2 : 3);
    if (!parts) return msg.fatal(QUERY_USAGE[mode]);
    const last = parts[2] ?? '*';
    if (mode === 'F' && last !== '*' && !(FIELD_NAMES as readonly string[]).includes(last))
      msg.fatal(`invalid service attribute name: "${printable(last)}"`);
    return { text, name: parts[0]!, type: parts[1] ?? '*', last, matched: false };
  });
}

function hits(q: Query, e: MasterEntry, last?: string): boolean {
  return (
    (q.name === '*' || q.name === e.name) &&
    (q.type === '*' || q.type === e.type) &&
    (last === undefined || q.last === '*' || q.last === last)
  );
}

/** Does any query select this (entry, field/parameter)? Marks the queries that do. */
function selected(queries: Query[], e: MasterEntry, last?: string): boolean {
  if (queries.length === 0) return true;
  let any = false;
  for (const q of queries)
    if (hits(q, e, last)) {
      q.matched = true;
      any = true;
    }
  return any;
}

function loadMasterCf(dir: string): MasterCf {
  try {
    return readMasterCf(dir, (w) => msg.warn(printable(w)));
  } catch (e) {
    if (e instanceof MasterCfError) msg.fatal(e.message);
    throw e;
  }
}

function show(a: PostconfMasterArgs, cf: MasterCf, queries: Query[]): string {
  const cfg = a.config;
  let out = '';
  const settingsOf = (e: MasterEntry) => {
    if (!a.expand) return e.args;
    const scope = serviceScope(e.name, e.params);
    return mapSettings(e.args, (_n, v) => expandForService(cfg, v, scope));
  };
  for (const e of cf.entries) {
    const key = `${e.name}/${e.type}`;
    if (a.mode === 'M') {
      if (selected(queries, e)) out += `${formatEntry(entryFields(e), settingsOf(e), a.fold)}\n`;
    } else if (a.mode === 'F') {
      const values = entryFields(e);
      FIELD_NAMES.forEach((field, i) => {
        if (!selected(queries, e, field)) return;
        const name = `${key}/${field}`;
        if (a.noValues) out += `${name}\n`;
        else if (field === 'command')
          out += `${formatCommand(a.noNames ? '' : `${name} = `, e.command, settingsOf(e), a.fold)}\n`;
        else out += `${formatWords(a.noNames ? values[i]! : `${name} = ${values[i]}`, a.fold)}\n`;
      });
    } else {
      const scope = a.expand ? serviceScope(e.name, e.params) : null;
      for (const p of serviceParameters(e)) {
        if (!selected(queries, e, p.name)) continue;
        const name = `${key}/${p.name}`;
        const value = scope ? expandForService(cfg, p.value, scope) : p.value;
        if (a.noValues) out += `${name}\n`;
        else out += `${formatWords(a.noNames ? value : `${name} = ${value}`, a.fold)}\n`;
      }
    }
  }
  return out;
}

const EDIT_USAGE: Record<PostconfMasterArgs['mode'], string> = {
  M: '-Me, -MX or -M# requires service_name/type',
  F: '-Fe or -FX requires service_name/type/field_name',
  P: '-Pe or -PX requires service_name/type/parameter',
};

function editPattern(mode: PostconfMasterArgs['mode'], key: string): string[] {
  const n = mode === 'M' ? 2 : 3;
  const parts = splitPattern(key, n, n);
  if (!parts) return msg.fatal(EDIT_USAGE[mode]);
  return parts;
}

function nameValue(op: string): { name: string; value: string } {
  const nv = splitNameValue(op);
  if (nv.kind === 'error') return msg.fatal(`${nv.message}: "${printable(op)}"`);
  return nv;
}

/** Check every operand and turn it into an edit; nothing is read before this succeeds. */
function planEdit(
  mode: PostconfMasterArgs['mode'],
  edit: 'e' | 'X' | '#',
  operands: readonly string[],
): EditPlan {
  const pat = (p: string[]): ServicePattern => ({ name: p[0]!, type: p[1]! });
  if (mode === 'M' && edit === 'e') {
    const ops = operands.map((op) => {
      const nv = nameValue(op);
      const pattern = pat(editPattern(mode, nv.name));
      const r = parseEntryText(nv.value, (w) => msg.warn(printable(w)));
      if (r.kind === 'count') return msg.fatal(`bad field count: "${printable(op)}"`);
      if (r.kind === 'error') return msg.fatal(r.message);
      const entry: EntryText = r.fields;
      return { pattern, entry };
    });
    return { kind: 'replace', ops };
  }
  if (mode === 'M')
    return {
      kind: edit === 'X' ? 'remove' : 'comment',
      ops: operands.map((op) => pat(editPattern(mode, op))),
    };
  if (mode === 'F') {
    const ops = operands.map((op) => {
      const nv = nameValue(op);
      const p = editPattern(mode, nv.name);
      const field = p[2]!;
      if (field === '*') msg.fatal('-Fe does not accept wild-card field name');
      if (!(FIELD_NAMES as readonly string[]).includes(field))
        msg.fatal(`invalid service attribute name: "${printable(field)}"`);
      if (field !== 'command' && hasBlank(nv.value))
        msg.fatal('-Fe does not accept whitespace in non-command field');
      return { pattern: pat(p), field: field as FieldName, value: nv.value };
    });
    return { kind: 'field', ops };
  }
  const ops = operands.map((op) => {
    const nv = edit === 'e' ? nameValue(op) : { name: op, value: null };
    const p = editPattern(mode, nv.name);
    if (p[2] === '*') msg.fatal('-Pe does not accept wild-card parameter name');
    if (nv.value !== null && hasBlank(nv.value))
      msg.fatal('-Pe does not accept whitespace in parameter value');
    return { pattern: pat(p), name: p[2]!, value: nv.value };
  });
  return { kind: 'param', ops };
}

function runEdit(a: PostconfMasterArgs, edit: 'e' | 'X' | '#', operands: readonly string[]): void {
  const plan = planEdit(a.mode, edit, operands);
  const dir = a.config.configDirectory;
  const file = masterCfPath(dir);
  let text = '';
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EISDIR') msg.fatal(`open ${file} for reading: ${strerror(e)}`);
  }
  const lines = splitPhysicalLines(text);
  const warn = (w: string) => msg.warn(printable(w));
  let result: ReturnType<typeof editMasterCf>;
  try {
    result = editMasterCf(file, lines, logicalLines(lines), plan, (row) => parseRow(row, file, warn));
  } catch (e) {
    if (e instanceof EditError || e instanceof MasterCfError) msg.fatal(e.message);
    throw e;
  }
  if (plan.kind === 'field' || plan.kind === 'param')
    for (const i of result.unmatched) msg.warn(`unmatched service_name/type: "${printable(operands[i]!)}"`);
  try {
    writeMasterCf(file, result.text);
  } catch (e) {
    msg.fatal(`write ${file}: ${strerror(e)}`);
  }
}

export function postconfMaster(args: PostconfMasterArgs): number {
  // master.cf is handled one byte a char; command-line text must match it so.
  const operands = args.operands.map((o) => Buffer.from(o, 'utf8').toString('latin1'));
  const edit = checkOptions(args, operands);
  if (edit !== 'none') {
    if (operands.length === 0) return 0;
    runEdit(args, edit, operands);
    return 0;
  }
  const queries = parseQueries(args.mode, operands);
  const cf = loadMasterCf(args.config.configDirectory);
  // As Postfix: $name problems first, unused "-o" settings last; main.cf's unused names are not shown here.
  const check = checkParameters(args.config, cf.entries, cf.file);
  for (const w of check.undefinedRefs) msg.warn(w);
  const out = show(args, cf, queries);
  if (args.write) args.write(out);
  else process.stdout.write(Buffer.from(out, 'latin1'));
  for (const q of queries) if (!q.matched) msg.warn(`unmatched request: "${printable(q.text)}"`);
  for (const w of check.masterUnused) msg.warn(w);
  return 0;
}
