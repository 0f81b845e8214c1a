/*
 * postmap_main - what postmap(1) and postalias(1) share
 *
 * Both commands build a table from a source file (or stdin with -i), query
 * it (-q key, -q -), delete keys (-d key, -d -) or list it (-s), on any
 * "type:name" that openDict() knows, with Postfix's options, messages and
 * exit statuses: 0 for success (a key found, deleted, listed), 1 for
 * "not found" and for every fatal error. They differ only in the source
 * syntax (postmap(1) vs aliases(5)), the output separator ("\t" vs
 * ":\t"), and the entries postalias adds (@, YP_LAST_MODIFIED,
 * YP_MASTER_NAME).
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { mimeLimits } from '../cleanup/mime_limits.js';
import { loadMainConfig, type MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { decodeBytes, encodeBytes, hasRawBytes, printable } from '../maps/bytes.js';
import type { Dict, DictFlags } from '../maps/dict.js';
import { DICT_TYPES, openDict, splitDictSpec } from '../maps/index.js';
import { type BuildFlags, foldKey } from '../maps/store_indexed.js';
import { type Entry, logicalLines } from '../maps/table_source.js';
import { getopt } from '../util/getopt.js';
import { completeBlocks, exitQuietlyOnBrokenPipe, writeStdoutSync } from '../util/stdio.js';
import { strerror } from '../util/strerror.js';
import { MessageKeys } from './postmap_mime.js';

export interface Tool {
  readonly program: 'postmap' | 'postalias';
  readonly optstring: string;
  readonly usage: string;
  /** Parse one logical source line. */
  parse(text: string): Entry;
  /** Between key and value in -q - and -s output. */
  readonly separator: string;
  readonly aliases: boolean;
}

/** Types postmap can build (others are query-only, as in Postfix). */
const CREATABLE = new Set(['btree', 'cdb', 'hash', 'lmdb']);

interface Options {
  query?: string;
  del?: string;
  sequence: boolean;
  incremental: boolean;
  fold: boolean;
  dup: DictFlags['dup'];
  tryNull?: boolean;
  noPerm: boolean;
  header: boolean;
  body: boolean;
  mime: boolean;
  base64: boolean;
  utf8Off: boolean;
  utf8: boolean;
  configDir?: string;
}

export async function runTool(tool: Tool, argv: readonly string[]): Promise<never> {
  msg.setProgram(tool.program);
  exitQuietlyOnBrokenPipe();
  if (process.env.MAIL_VERBOSE) msg.setVerbose(1);
  const usage = () => msg.fatal(`usage: ${tool.program} ${tool.usage}`);
  const o: Options = {
    sequence: false,
    incremental: false,
    fold: true,
    dup: 'warn',
    noPerm: false,
    header: false,
    body: false,
    mime: false,
    base64: false,
    utf8Off: false,
    utf8: true,
  };
  const parsed = getopt(argv, tool.optstring);
  const opts = parsed.opts;
  for (const { opt, arg } of opts) {
    switch (opt) {
      case 'b':
        o.body = true;
        break;
      case 'c':
        o.configDir = arg;
        break;
      case 'd':
        if (o.sequence || o.query !== undefined) msg.fatal('specify only one of -s -q or -d');
        o.del = arg;
        break;
      case 'f':
        o.fold = false;
        break;
      case 'F':
        o.base64 = true;
        break;
      case 'h':
        o.header = true;
        break;
      case 'i':
        o.incremental = true;
        break;
      case 'm':
        o.mime = true;
        break;
      case 'N':
        o.tryNull = true;
        break;
      case 'n':
        o.tryNull = false;
        break;
      case 'p':
        o.noPerm = true;
        break;
      case 'q':
        if (o.sequence || o.del !== undefined) msg.fatal('specify only one of -s -q or -d');
        o.query = arg;
        break;
      case 'r':
        o.dup = 'replace';
        break;
      case 's':
        if (o.query !== undefined || o.del !== undefined) msg.fatal('specify only one of -s or -q or -d');
        o.sequence = true;
        break;
      case 'u':
        o.utf8Off = true;
        break;
      case 'v':
        msg.setVerbose(msg.verbose + 1);
        break;
      case 'w':
        o.dup = 'ignore';
        break;
      // -o (keep root privileges) and -U (UTF-8 checks with -b/-h): nothing to do here.
    }
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${tool.program}: ${parsed.message}\n`);
    return usage();
  }
  let cfg: MainConfig;
  try {
    cfg = loadMainConfig({ configDir: o.configDir });
  } catch (e) {
    const dir = o.configDir ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
    return msg.fatal(`open ${dir}/main.cf: ${strerror(e)}`);
  }
  exportEnvironment(cfg, o.configDir);
  const operands = parsed.operands;
  if (operands.length === 0) usage();
  if ((o.header || o.body || o.mime) && o.query !== '-') msg.fatal('specify -b -h or -m only with "-q -"');
  if (o.mime && !o.header && !o.body) msg.warn('ignoring -m option without -b or -h');
  const utf8 = !o.utf8Off && /^yes$/i.test(cfg.get('smtputf8_enable') || 'yes');
  o.utf8 = utf8;
  const defaultType = cfg.get('default_database_type') || 'hash';
  const flags = (mode: DictFlags['mode']): DictFlags => ({
    fold: o.fold,
    dup: o.dup,
    mode,
    utf8,
    emptyValue: 'show',
    config: cfg,
    ...(o.tryNull === undefined ? {} : { tryNull: o.tryNull }),
  });
  const specOf = (operand: string): { type: string; name: string; spec: string } => {
    const p = splitDictSpec(operand);
    const type = p?.type ?? defaultType;
    const name = p?.name ?? operand;
    return { type, name, spec: `${type}:${name}` };
  };
  const open = async (spec: string, mode: DictFlags['mode'], extra: object = {}): Promise<Dict> => {
    try {
      return await openDict(spec, { ...flags(mode), ...extra });
    } catch (e) {
      return msg.fatal(e instanceof Error ? e.message : String(e));
    }
  };
  const show = (v: string) => (o.base64 ? decodeBytes(Buffer.from(v, 'base64')) : v);

  if (o.query !== undefined) {
    const maps: Dict[] = [];
    if (o.query !== '-') {
      for (const operand of operands) {
        const d = await open(specOf(operand).spec, 'read');
        maps.push(d);
        const v = await lookupOrDie(d, o.query);
        if (v !== undefined) {
          await out(`${show(v)}\n`);
          return exit(0);
        }
      }
      return exit(1);
    }
    for (const operand of operands) maps.push(await open(specOf(operand).spec, 'read'));
    let any = false;
    const query = async (key: string) => {
      for (const d of maps) {
        const v = await lookupOrDie(d, key);
        if (v !== undefined) {
          any = true;
          await out(`${key}${tool.separator}${show(v)}\n`);
          return;
        }
      }
    };
    if (o.header || o.body) {
      const keys: string[] = [];
      const limits = mimeLimits(cfg);
      const m = new MessageKeys({ header: o.header, body: o.body, mime: o.mime, limits }, (k) =>
        keys.push(k),
      );
      for await (const line of stdinLines()) {
        m.line(line);
        while (keys.length > 0) await query(keys.shift()!);
      }
      m.end();
      for (const k of keys) await query(k);
    } else {
      for await (const line of stdinLines()) await query(line);
    }
    return exit(any ? 0 : 1);
  }

  if (o.del !== undefined) {
    const keys = o.del === '-' ? await allStdinLines() : [o.del];
    let any = false;
    for (const operand of operands) {
      const { spec, type, name } = specOf(operand);
      const d = await open(spec, 'update');
      const del = d.delete?.bind(d);
      if (!del) return msg.fatal(`table ${type}:${name}: delete operation is not supported`);
      for (const k of keys) if ((await del(k)) === 'deleted') any = true;
      await d.close();
    }
    return exit(any ? 0 : 1);
  }

  if (o.sequence) {
    let any = false;
    for (const operand of operands) {
      const { spec, type } = specOf(operand);
      if (type === 'proxy') msg.fatal("can't sequence maps via the proxy service");
      const d = await open(spec, 'read');
      const seq = d.sequence?.bind(d);
      if (!seq) return msg.fatal(`table ${type}:${d.name}: sequence operation is not supported`);
      try {
        for await (const [k, v] of seq()) {
          any = true;
          await out(`${k}${tool.separator}${show(v)}\n`);
        }
      } catch (e) {
        msg.fatal(`table ${type}:${d.name}: sequence error: ${(e as Error).message}`);
      }
      await d.close();
    }
    return exit(any ? 0 : 1);
  }

  for (const operand of operands) await build(tool, o, specOf(operand), open);
  return exit(0);
}

async function build(
  tool: Tool,
  o: Options,
  { type, name, spec }: { type: string; name: string; spec: string },
  open: (spec: string, mode: DictFlags['mode'], extra?: object) => Promise<Dict>,
): Promise<void> {
  let text: string;
  let source: string;
  let createMode = 0o644;
  if (type === 'proxy' && !o.incremental) msg.fatal("can't create maps via the proxy service");
  if (o.incremental) {
    source = 'stdin';
    text = readStdin();
  } else {
    source = name;
    try {
      text = decodeBytes(readFileSync(name));
      // New tables get the source's group and other read permissions (unless -p).
      if (!o.noPerm) createMode = (statSync(name).mode & 0o044) | 0o600;
    } catch (e) {
      return msg.fatal(`open ${name}: ${strerror(e)}`);
    }
  }
  // As Postfix: the source is opened first, then the type is checked.
  if (!(type in DICT_TYPES)) {
    msg.fatal(`unsupported dictionary type: ${type}. Is the postfix-${type} package installed?`);
  }
  if (!CREATABLE.has(type)) {
    msg.fatal(`unsupported dictionary type: ${type} does not support bulk-mode creation.`);
  }
  // Keys are folded here, not by the table, so that postalias can store YP_* as is.
  const fold: DictFlags = { fold: o.fold, dup: o.dup, mode: 'create', utf8: o.utf8 };
  const extra: Pick<BuildFlags, 'createMode' | 'fold'> = { createMode, fold: false };
  const d = await open(spec, o.incremental ? 'update' : 'create', extra);
  const update = d.update?.bind(d);
  if (!update) return msg.fatal(`unsupported dictionary type: ${type} does not support bulk-mode creation.`);
  const shown = (t: string) => printable(t, o.utf8);
  for (const { line, text: t } of logicalLines(text, source, (w) => msg.warn(shown(w)))) {
    // With SMTPUTF8 a line that is not valid UTF-8 is refused whole, before it is parsed.
    if (o.utf8 && hasRawBytes(t)) {
      msg.warn(`${source}, line ${line}: non-UTF-8 input "${shown(t)}" -- ignoring this line`);
      continue;
    }
    const e = tool.parse(t);
    if (e.kind === 'error') {
      msg.warn(`${source}, line ${line}: ${shown(e.warning)}`);
      continue;
    }
    const value = o.base64 ? fileContents(e.value, source, line) : e.value;
    if (value === undefined) continue;
    await update(foldKey(e.key, fold), value);
  }
  if (tool.aliases) {
    // Sendmail-compatible markers: "@" says the database is complete; the YP entries are NIS's.
    // They replace earlier ones silently (postalias -i).
    const marks: [string, string][] = [
      ['YP_LAST_MODIFIED', String(Math.floor(Date.now() / 1000))],
      ['YP_MASTER_NAME', masterName()],
      ['@', '@'],
    ];
    for (const [k, v] of marks) {
      await d.delete?.(k);
      await update(k, v);
    }
  }
  await d.close();
}

/**
 * The environment Postfix's commands give themselves (and so what environ:
 * tables see): -c exported as MAIL_CONFIG, $syslog_name as MAIL_LOGTAG, and
 * every name=value of import_environment set. Nothing is removed: unlike
 * daemons, postmap and postalias keep the environment they were given.
 */
function exportEnvironment(cfg: MainConfig, configDir: string | undefined): void {
  if (configDir !== undefined) process.env.MAIL_CONFIG = configDir;
  process.env.MAIL_LOGTAG = cfg.get('syslog_name');
  for (const item of cfg.get('import_environment').split(/[\s,]+/)) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    if (eq === 0) msg.fatal(`update_env: missing attribute name in: ${item}`);
    process.env[item.slice(0, eq)] = item.slice(eq + 1);
  }
}

function masterName(): string {
  const h = hostname();
  return h.includes('.') ? h : `${h}.localdomain`;
}

/** postmap -F: the value names files whose contents (joined by newlines) are stored base64-encoded. */
function fileContents(value: string, source: string, line: number): string | undefined {
  const parts: Buffer[] = [];
  for (const file of value.split(/[\s,]+/).filter((f) => f !== '')) {
    try {
      if (parts.length > 0) parts.push(Buffer.from('\n'));
      parts.push(readFileSync(file));
    } catch (e) {
      msg.warn(`${source}, line ${line}: open ${file}: ${strerror(e)}: skipping this entry`);
      return undefined;
    }
  }
  return Buffer.concat(parts).toString('base64');
}

async function lookupOrDie(d: Dict, key: string): Promise<string | undefined> {
  const r = await d.lookup(key);
  if (r.kind === 'found') return r.value;
  // Postfix prints the errno its table left behind, or nothing for a configuration error.
  if (r.kind === 'retry')
    msg.fatal(`table ${d.type}:${d.name}: query error${r.reason ? `: ${r.reason}` : ''}`);
  return undefined;
}

function readStdin(): string {
  try {
    return decodeBytes(readFileSync(0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return '';
    throw e;
  }
}

async function allStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of stdinLines()) lines.push(l);
  return lines;
}

/**
 * Lines of stdin as they arrive (a pipe may wait for our answers), without
 * line ends, bytes kept (bytes.ts). Each chunk's complete lines are decoded
 * in one go. Only "\n" ends a line: a "\r" stays part of the key, as in Postfix.
 */
async function* stdinLines(): AsyncGenerator<string> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    const last = buf.lastIndexOf(0x0a);
    if (last < 0) {
      rest = buf;
      continue;
    }
    rest = buf.subarray(last + 1);
    const lines = decodeBytes(buf.subarray(0, last)).split('\n');
    yield* lines;
  }
  if (rest.length > 0) yield decodeBytes(rest);
}

const pending: string[] = [];
let pendingBytes = 0;

/*
 * Output is buffered as Postfix's is: not flushed per line, not even when
 * stdin is a pipe or a terminal (a co-process that sends one key and waits
 * for the answer waits until end of input, with Postfix too). Postfix
 * writes in 4096-byte blocks, so when a fatal error ends the run, the
 * complete blocks have gone out and the rest is lost; ours writes in 64 KB
 * batches for speed and, on such an exit, writes the complete 4096-byte
 * blocks of what is pending, so stdout holds the same bytes.
 */
process.on('exit', () => {
  if (pending.length === 0) return;
  const bytes = encodeBytes(pending.join(''));
  pending.length = 0;
  writeStdoutSync(completeBlocks(bytes));
});

/** Buffered stdout: one write per 64 KB instead of one per line. */
async function out(text: string): Promise<void> {
  pending.push(text);
  pendingBytes += text.length;
  if (pendingBytes >= 65536) await flushOut();
}

async function flushOut(): Promise<void> {
  if (pending.length === 0) return;
  const chunk = pending.join('');
  pending.length = 0;
  pendingBytes = 0;
  await new Promise<void>((resolve) => {
    if (process.stdout.write(hasRawBytes(chunk) ? encodeBytes(chunk) : chunk)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

async function exit(code: number): Promise<never> {
  await flushOut();
  process.exitCode = code;
  // Let stdout drain before exiting (a pipe may be slow).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
