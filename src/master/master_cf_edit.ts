import { writeFileAtomic } from '../util/atomic_file.js';
import {
  checkField,
  FIELD_NAMES,
  type FieldName,
  type LogicalLine,
  MasterCfError,
  type MasterEntry,
} from './master_cf.js';
import { entryFields, formatEntry } from './master_cf_print.js';
import type { PhysicalLine } from './master_cf_tokens.js';
import { splitBraced, splitNameValue } from './master_cf_tokens.js';

/** name/type with "*" for any. */
export interface ServicePattern {
  readonly name: string;
  readonly type: string;
}

export type EntryText = Omit<MasterEntry, 'line' | 'lastLine' | 'params'>;

export type EditPlan =
  | { readonly kind: 'replace'; readonly ops: readonly { pattern: ServicePattern; entry: EntryText }[] }
  | { readonly kind: 'remove' | 'comment'; readonly ops: readonly ServicePattern[] }
  | {
      readonly kind: 'field';
      readonly ops: readonly { pattern: ServicePattern; field: FieldName; value: string }[];
    }
  | {
      readonly kind: 'param';
      readonly ops: readonly { pattern: ServicePattern; name: string; value: string | null }[];
    };

export class EditError extends Error {}

export function matches(p: ServicePattern, e: { name: string; type: string }): boolean {
  return (p.name === '*' || p.name === e.name) && (p.type === '*' || p.type === e.type);
}

type Action =
  | { kind: 'keep' }
  | { kind: 'delete' }
  | { kind: 'comment' }
  | { kind: 'replace'; text: string }
  | { kind: 'modify'; text: string };

/** Which operands matched nothing (postconf warns about -F/-P ones). */
export interface EditResult {
  readonly text: string;
  readonly unmatched: readonly number[];
}

/**
 * Edit the file's lines. Only the first two words of an entry are looked
 * at unless an -F/-P operand selects it: then `parse` reads the whole entry
 * (and may throw), as Postfix leaves other entries, even bad ones, alone.
 */
export function editMasterCf(
  file: string,
  lines: readonly PhysicalLine[],
  rows: readonly LogicalLine[],
  plan: EditPlan,
  parse: (row: LogicalLine) => MasterEntry,
): EditResult {
  const used = new Set<number>();
  const entries = rows.filter((r) => !r.orphan);
  const actions = entries.map((row) => {
    const [name, type] = splitBraced(lines[row.line - 1]!.text);
    if (type === undefined || name === undefined)
      throw new MasterCfError(
        `file ${file}: line ${row.line}: specify service name and type on the same line`,
      );
    return decide({ name, type }, () => parse(row), plan, used);
  });
  const byStart = new Map<number, number>();
  const owner = new Map<number, number>();
  entries.forEach((e, n) => {
    byStart.set(e.line - 1, n);
    for (let l = e.line - 1; l < e.lastLine; l++) owner.set(l, n);
  });
  let out = '';
  let pending = '';
  lines.forEach((line, idx) => {
    const raw = line.newline ? `${line.text}\n` : line.text;
    const n = owner.get(idx);
    if (line.kind === 'comment' || n === undefined) {
      if (line.kind === 'start') {
        out += pending;
        pending = '';
      }
      out += raw;
      return;
    }
    const action = actions[n]!;
    if (byStart.has(idx)) {
      out += pending;
      pending = '';
      if (action.kind === 'replace') out += `${action.text}\n`;
      if (action.kind === 'modify') pending = `${action.text}\n`;
    }
    if (action.kind === 'keep') out += raw;
    else if (action.kind === 'comment') out += `#${raw}`;
  });
  out += pending;
  if (plan.kind === 'replace')
    plan.ops.forEach((op, i) => {
      if (!used.has(i)) out += `${formatEntryText(op.entry)}\n`;
    });
  const unmatched = plan.ops.map((_op, i) => i).filter((i) => !used.has(i));
  return { text: out, unmatched };
}

export function formatEntryText(e: EntryText): string {
  return formatEntry(entryFields(e), e.args, true);
}

function decide(
  e: { name: string; type: string },
  parse: () => MasterEntry,
  plan: EditPlan,
  used: Set<number>,
): Action {
  switch (plan.kind) {
    case 'replace': {
      let action: Action = { kind: 'keep' };
      plan.ops.forEach((op, i) => {
        if (!matches(op.pattern, e)) return;
        if (!used.has(i)) {
          used.add(i);
          action = { kind: 'replace', text: formatEntryText(op.entry) };
        } else if (action.kind !== 'replace') {
          action = { kind: 'delete' };
        }
      });
      return action;
    }
    case 'remove':
    case 'comment': {
      let hit = false;
      plan.ops.forEach((op, i) => {
        if (matches(op, e)) {
          used.add(i);
          hit = true;
        }
      });
      return hit ? { kind: plan.kind === 'remove' ? 'delete' : 'comment' } : { kind: 'keep' };
    }
    case 'field': {
      let cur: EntryText | null = null;
      plan.ops.forEach((op, i) => {
        if (!matches(op.pattern, e)) return;
        used.add(i);
        cur = setField(cur ?? parse(), op.field, op.value);
      });
      return cur ? { kind: 'modify', text: formatEntryText(cur) } : { kind: 'keep' };
    }
    case 'param': {
      let cur: EntryText | null = null;
      plan.ops.forEach((op, i) => {
        if (!matches(op.pattern, e)) return;
        used.add(i);
        cur = setParam(cur ?? parse(), op.name, op.value);
      });
      return cur ? { kind: 'modify', text: formatEntryText(cur) } : { kind: 'keep' };
    }
  }
}

function setField(e: EntryText, field: FieldName, value: string): EntryText {
  const err = checkField(field, value, value);
  if (err) throw new EditError(err);
  switch (field) {
    case 'service':
      return { ...e, name: value };
    case 'type':
      return { ...e, type: value as EntryText['type'] };
    case 'private':
      return { ...e, private: value };
    case 'unprivileged':
      return { ...e, unprivileged: value };
    case 'chroot':
      return { ...e, chroot: value };
    case 'wakeup':
      return { ...e, wakeup: value };
    case 'process_limit':
      return { ...e, processLimit: value };
    case 'command': {
      const words = splitBraced(value);
      if (words.length === 0) throw new EditError(`invalid command field "" in ""`);
      return { ...e, command: words[0]!, args: words.slice(1) };
    }
  }
}

/** The parameter name of a shown "-o" value, if it has one. */
function settingName(shown: string): string | null {
  const nv = splitNameValue(shown);
  return nv.kind === 'ok' ? nv.name : null;
}

/**
 * Set (value) or remove (null) a "-o" setting: every occurrence in the
 * option part changes; a new one goes at the end of the option part.
 */
function setParam(e: EntryText, name: string, value: string | null): EntryText {
  const args: string[] = [];
  let options = true;
  let found = false;
  let endOfOptions = -1;
  for (let i = 0; i < e.args.length; i++) {
    const arg = e.args[i]!;
    if (options && (!arg.startsWith('-') || arg === '--')) {
      options = false;
      endOfOptions = args.length;
    }
    if (options && arg === '-o' && i + 1 < e.args.length) {
      const shown = e.args[++i]!;
      if (settingName(shown) !== name) args.push(arg, shown);
      else {
        found = true;
        if (value !== null) args.push('-o', `${name}=${value}`);
      }
      continue;
    }
    args.push(arg);
  }
  if (!found && value !== null) {
    if (endOfOptions < 0) endOfOptions = args.length;
    args.splice(endOfOptions, 0, '-o', `${name}=${value}`);
  }
  return { ...e, args };
}

/** Write `text` (latin1, one char a byte) to `file` atomically, through `file`.tmp as Postfix's postconf. */
export function writeMasterCf(file: string, text: string): void {
  writeFileAtomic(file, Buffer.from(text, 'latin1'), { tmpPath: `${file}.tmp` });
}

export { FIELD_NAMES };
