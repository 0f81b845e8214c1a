/*
 * cidr - tables of network blocks, cidr_table(5)
 *
 * A file of "network/prefix result" rules (IPv4 and IPv6, "[...]" allowed,
 * a bare address meaning the full prefix), "!pattern" for "does not
 * match", and "if pattern" ... "endif" blocks that nest. The first rule
 * that matches the key wins. Comments, blank lines and continuation lines
 * (starting with whitespace) as in every Postfix table file. The table may
 * also be written inline: "cidr:{ {rule}, {rule} }".
 *
 * A bad rule is reported once, when the table is opened, with Postfix's
 * words ("cidr map FILE, line N: ...: skipping this rule") and skipped.
 * Addresses are parsed as glibc's inet_pton does (no leading zeros in IPv4
 * octets), so the same rules are accepted and rejected as by Postfix. A key
 * that is not an address is simply not found; an IPv4-mapped IPv6 key
 * ("::ffff:1.2.3.4") matches IPv6 rules only. Keys are not case-folded.
 * No sequence.
 */
import { readFileSync } from 'node:fs';
import { msg } from '../global/msg.js';
import { strerror } from '../util/strerror.js';
import { listItems, unbrace } from './braces.js';
import { type Dict, DictOpenError, type DictOpener, found, type Lookup, NOTFOUND } from './dict.js';

type Family = 4 | 6;
export interface Network {
  readonly family: Family;
  readonly net: bigint;
  readonly mask: bigint;
  /** IPv4 net and mask as numbers: bigint arithmetic costs 3x in a long table scan. */
  readonly net4: number;
  readonly mask4: number;
}

const network = (family: Family, net: bigint, mask: bigint): Network => ({
  family,
  net,
  mask,
  net4: family === 4 ? Number(net) : 0,
  mask4: family === 4 ? Number(mask) : 0,
});

type Entry =
  | { readonly op: 'rule'; readonly net: Network; readonly match: boolean; readonly value: string }
  | { readonly op: 'if'; readonly net: Network; readonly match: boolean; end: number }
  | { readonly op: 'endif' };

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** An IPv4 address as inet_pton parses it: four decimal octets, no leading zeros. */
function parse4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** An IPv6 address as inet_pton parses it, including "::" and a trailing dotted quad. */
function parse6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string, last: boolean): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parse4(p);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  const n = head.length + tail.length;
  // Without "::" there must be eight groups; "::" stands for at least one.
  if (halves.length === 1 ? n !== 8 : n > 7) return null;
  const all = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  return all.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

/** Parse an address of the given family (chosen by the caller from ":" in the text). */
export function parseAddress(text: string, family: Family): bigint | null {
  return family === 6 ? parse6(text) : parse4(text);
}

/** inet_ntop's spelling: IPv6 lowercase, longest zero run as "::", embedded IPv4 kept dotted. */
export function formatAddress(value: bigint, family: Family): string {
  const quad = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
  if (family === 4) return quad(value);
  const w = [...Array(8).keys()].map((i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  if (best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
    return (best.len === 5 ? '::ffff:' : '::') + quad(value & 0xffffffffn);
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best.base) {
      out += '::';
      i += best.len - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += w[i]!.toString(16);
  }
  return out;
}

const maskOf = (len: number, family: Family): bigint => {
  const bits = BigInt(BITS[family]);
  return len === 0 ? 0n : ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(len))) - 1n);
};

/** "network/prefix", "address" or "[address]/prefix" -> Network, or Postfix's complaint. */
export function parsePattern(pattern: string): Network | string {
  let p = pattern;
  if (p.startsWith('[')) {
    const close = p.indexOf(']');
    if (close < 0) return `missing ']' character after "${p}"`;
    const rest = p.slice(close + 1);
    if (rest !== '' && rest[0] !== '/') return `garbage after "${p.slice(0, close + 1)}"`;
    p = p.slice(1, close) + rest;
  }
  const family: Family = p.includes(':') ? 6 : 4;
  const slash = p.indexOf('/');
  if (slash < 0) {
    const net = parseAddress(p, family);
    if (net === null) return `bad address pattern: "${p}"`;
    return network(family, net, maskOf(BITS[family], family));
  }
  const maskText = p.slice(slash + 1);
  if (!/^[0-9]+$/.test(maskText)) return `bad mask value in "${p}"`;
  const len = Number(maskText);
  if (len > BITS[family]) return `bad mask length in "${p}"`;
  const net = parseAddress(p.slice(0, slash), family);
  if (net === null) return `bad network value in "${p}"`;
  const mask = maskOf(len, family);
  if ((net & mask) !== net) {
    const fix = `${formatAddress(net & mask, family)}/${len}`;
    return `non-null host address bits in "${p}", perhaps you should use "${fix}" instead`;
  }
  return network(family, net, mask);
}

/** Does the key (already parsed) fall in the network? Another family never matches. */
export function inNetwork(n: Network, family: Family, addr: bigint, addr4 = Number(addr)): boolean {
  if (n.family !== family) return false;
  return family === 4 ? (addr4 & n.mask4) >>> 0 === n.net4 : (addr & n.mask) === n.net;
}

const WS = /[ \t\n\r\v\f]/;
const trimEnd = (s: string) => s.replace(/[ \t\n\r\v\f]+$/, '');

/** Leading "!" and whitespace: each "!" flips the sense of the match. */
function negations(text: string): { match: boolean; rest: string } {
  let match = true;
  let i = 0;
  for (; i < text.length; i++) {
    if (text[i] === '!') match = !match;
    else if (!WS.test(text[i]!)) break;
  }
  return { match, rest: text.slice(i) };
}

/** One logical line -> an entry, or the reason it is skipped. */
function parseRule(line: string, nesting: number): Entry | string {
  const kw = /^(if|endif)(?![A-Za-z0-9])/i.exec(line);
  if (kw?.[1]?.toLowerCase() === 'if') {
    const { match, rest } = negations(line.slice(2));
    if (rest === '') return 'no address pattern';
    const net = parsePattern(trimEnd(rest));
    if (typeof net === 'string') return net;
    return { op: 'if', net, match, end: -1 };
  }
  if (kw) {
    if (line.slice(5).trim() !== '') return 'garbage after ENDIF';
    if (nesting === 0) return 'ENDIF without IF';
    return { op: 'endif' };
  }
  const { match, rest } = negations(line);
  const m = /^([^ \t\n\r\v\f]*)[ \t\n\r\v\f]*(.*)$/s.exec(rest)!;
  const pattern = m[1]!;
  const value = trimEnd(m[2]!);
  if (pattern === '') return 'no address pattern';
  const net = parsePattern(pattern);
  if (typeof net === 'string') return net;
  if (value === '') return 'no lookup result';
  return { op: 'rule', net, match, value };
}

/** A logical line; `indented` when the file starts with a continuation line (Postfix skips it). */
export interface LogicalLine {
  readonly line: number;
  text: string;
  readonly indented?: boolean;
}

/** Logical lines of a table file: comments and blank lines dropped, continuations joined. */
export function logicalLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.replace(/^[ \t\n\r\v\f]+/, '');
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const last = out[out.length - 1];
    if (!WS.test(raw[0]!)) out.push({ line: i + 1, text: trimmed });
    else if (last) last.text += raw;
    else out.push({ line: i + 1, text: raw, indented: true });
  }
  return out;
}

/** Compile rules; warnings name the table as Postfix does. */
function compile(label: string, lines: LogicalLine[]): Entry[] {
  const entries: Entry[] = [];
  const open: { index: number; line: number }[] = [];
  for (const { line, text, indented } of lines) {
    if (indented) {
      msg.warn(`${label}: logical line must not start with whitespace: "${text}"`);
      continue;
    }
    const e = parseRule(trimEnd(text), open.length);
    if (typeof e === 'string') {
      msg.warn(`cidr map ${label}, line ${line}: ${e}: skipping this rule`);
      continue;
    }
    if (e.op === 'if') open.push({ index: entries.length, line });
    if (e.op === 'endif') {
      const o = open.pop()!;
      (entries[o.index] as { end: number }).end = entries.length;
    }
    entries.push(e);
  }
  for (let o = open.pop(); o; o = open.pop()) {
    msg.warn(`cidr map ${label}, line ${o.line}: IF has no matching ENDIF`);
    (entries[o.index] as { end: number }).end = entries.length;
  }
  return entries;
}

function readRules(name: string): LogicalLine[] {
  if (name.startsWith('{')) {
    const outer = unbrace(name);
    if (!outer.ok) throw new DictOpenError(`cidr:${name}`, `cidr map: ${outer.error}`);
    return listItems(outer.inner).map((item, i) => {
      const r = unbrace(item);
      if (!r.ok) throw new DictOpenError(`cidr:${name}`, `cidr map: ${r.error}`);
      return { line: i + 1, text: r.inner };
    });
  }
  let text: string;
  try {
    text = readFileSync(name, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? `cidr map ${name}: read error: ` : `open ${name}: `;
    throw new DictOpenError(`cidr:${name}`, why + strerror(e));
  }
  return logicalLines(text);
}

/**
 * For a table of plain rules (no "!", no if/endif), an index giving the same
 * first match without a scan: per family and mask, network -> first rule.
 * A lookup then costs one probe per distinct prefix length.
 */
function indexRules(entries: Entry[]): ((family: Family, addr: bigint, addr4: number) => number) | null {
  if (entries.length < 16 || !entries.every((e) => e.op === 'rule' && e.match)) return null;
  const byMask = new Map<
    string,
    { family: Family; mask: bigint; mask4: number; first: Map<string | number, number> }
  >();
  entries.forEach((e, i) => {
    if (e.op !== 'rule') return;
    const id = `${e.net.family}/${e.net.mask}`;
    let m = byMask.get(id);
    if (!m)
      byMask.set(id, (m = { family: e.net.family, mask: e.net.mask, mask4: e.net.mask4, first: new Map() }));
    // V8 hashes bigint keys badly: IPv6 networks are keyed by their hex text.
    const k = e.net.family === 4 ? e.net.net4 : e.net.net.toString(16);
    if (!m.first.has(k)) m.first.set(k, i);
  });
  const groups = [...byMask.values()];
  return (family, addr, addr4) => {
    let best = -1;
    for (const g of groups) {
      if (g.family !== family) continue;
      const i = g.first.get(family === 4 ? (addr4 & g.mask4) >>> 0 : (addr & g.mask).toString(16));
      if (i !== undefined && (best < 0 || i < best)) best = i;
    }
    return best;
  };
}

export const openDict: DictOpener = async (name) => {
  const entries = compile(
    name,
    readRules(name).filter((l) => l.text !== ''),
  );
  const index = indexRules(entries);
  const dict: Dict = {
    type: 'cidr',
    name,
    pattern: true,
    async lookup(key): Promise<Lookup> {
      const family: Family = key.includes(':') ? 6 : 4;
      const addr = parseAddress(key, family);
      if (addr === null) return NOTFOUND;
      const addr4 = family === 4 ? Number(addr) : 0;
      if (index) {
        const i = index(family, addr, addr4);
        return i < 0 ? NOTFOUND : found((entries[i] as { value: string }).value);
      }
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (e.op === 'endif') continue;
        // A rule of the other family never matches, negated or not.
        const hit = e.net.family === family && inNetwork(e.net, family, addr, addr4) === e.match;
        if (e.op === 'if') {
          if (!hit) i = e.end;
        } else if (hit) return found(e.value);
      }
      return NOTFOUND;
    },
    close: async () => {},
  };
  return dict;
};
