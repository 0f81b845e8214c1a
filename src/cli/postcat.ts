/*
 * NAME
 *	postcat - show Postroom queue files
 * SYNOPSIS
 *	postcat [-bdehoqrv] [-c config_dir] [-s offset] [files...]
 * DESCRIPTION
 *	Prints queue files in human-readable form, with Postfix's record
 *	names and section headings: envelope (-e), header (-h), body (-b);
 *	all three when none is given. -o prefixes each record with its file
 *	offset, -d with its decimal record type. -q takes each name as a
 *	queue ID and looks it up in maildrop, incoming, active, deferred,
 *	hold and saved. -s starts reading at an offset; -r is accepted (our
 *	queue files have no pointer records). Without files, reads stdin.
 *
 *	Our record layout is not Postfix's (docs/queue.md): the records map
 *	onto Postfix's names (sizes: message_size, T: message_arrival_time,
 *	A: named_attribute or sender_fullname, S: sender, R: recipient, ...).
 * DIAGNOSTICS
 *	A file that is not a queue file: a warning, exit 0. A missing file or
 *	queue ID, a bad queue ID, a damaged record: fatal, exit 1.
 * CONFIGURATION PARAMETERS
 *	queue_directory, hash_queue_names, hash_queue_depth.
 */

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { queueFilePath, queueLayout } from '../global/queue_dirs.js';
import { decodeRecord, parseSize, REC } from '../global/queue_file.js';
import { ascTime } from '../showq/time.js';
import { getopt } from '../util/getopt.js';
import { exitQuietlyOnBrokenPipe } from '../util/stdio.js';

const USAGE =
  'usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] [-h (header text)] [-q (access queue)] [-v] [file(s)...]';
/** The queues -q searches, in Postfix's order. */
const SEARCH = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'saved'];
/** Postfix's record type byte for sender_fullname, which we keep as an attribute. */
const FULLNAME_TYPE = 0x46;

interface Flags {
  env: boolean;
  head: boolean;
  body: boolean;
  offset: boolean;
  decimal: boolean;
  skip: number;
}

const NAMES: Readonly<Record<number, string>> = {
  [REC.DSN_ENVID]: 'dsn_envelope_id',
  [REC.DSN_RET]: 'dsn_return_flags',
  [REC.FROM]: 'sender',
  [REC.ORCP]: 'original_recipient',
  [REC.DSN_ORCPT]: 'dsn_original_recipient',
  [REC.DSN_NOTIFY]: 'dsn_notify_flags',
  [REC.RCPT]: 'recipient',
  [REC.DONE]: 'done_recipient',
};

/** A header line or a header's first line: a field name then ':'. */
const HEADER = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

function show(buf: Buffer, name: string, f: Flags): string {
  const out: string[] = [];
  const prefix = (off: number, type: number) =>
    (f.offset ? `${String(off).padStart(9, ' ')} ` : '') +
    (f.decimal ? `${String(type).padStart(3, ' ')} ` : '');
  const heading = (off: number, type: number, what: string) => {
    if (f.env) out.push(`${off < 0 ? '' : prefix(off, type)}*** ${what} ${name} ***\n`);
  };
  if (buf.length === 0) return '';
  if (buf[0] !== REC.SIZE && f.skip === 0) {
    msg.warn(`${name}: input is not a valid queue file`);
    return '';
  }
  // Postfix prints this heading before reading a record, so with no offset or type.
  // With -s, Postfix starts at that record, without this heading.
  if (f.skip === 0) heading(-1, 0, 'ENVELOPE RECORDS');
  let pos = f.skip;
  let section: 'env' | 'content' | 'xtra' = 'env';
  let inHeader = true;
  let lineStart = true;
  let showing = false;
  for (;;) {
    if (pos >= buf.length) {
      process.stdout.write(out.join(''));
      msg.warn(`${name}: unexpected EOF in data, record type 0 length 0`);
      die('record read error');
    }
    const d = decodeRecord(buf, pos);
    if (d.kind !== 'record') {
      process.stdout.write(out.join(''));
      const type = buf[pos] as number;
      msg.warn(
        d.kind === 'short'
          ? `${name}: unexpected EOF in data, record type ${type} length ${buf.length - pos - 1}`
          : `${name}: ${d.reason} at offset ${pos}`,
      );
      die('record read error');
    }
    const { type, data } = d;
    const text = data.toString('utf8');
    if (section === 'content' && (type === REC.NORM || type === REC.CONT)) {
      if (lineStart) {
        // Postfix's header test: a field name, or a continuation while still in the header.
        // Postfix's test: a field name, or a line starting with white space (even the first).
        if (inHeader && !(HEADER.test(text) || /^[ \t]/.test(text))) inHeader = false;
        showing = inHeader ? f.head : f.body;
        if (showing) out.push(prefix(pos, type));
      }
      if (showing) out.push(text, type === REC.NORM ? '\n' : '');
      lineStart = type === REC.NORM;
    } else if (type === REC.MESG) {
      section = 'content';
      heading(pos, type, 'MESSAGE CONTENTS');
    } else if (type === REC.XTRA) {
      if (!lineStart && showing) out.push('\n');
      section = 'xtra';
      heading(pos, type, 'HEADER EXTRACTED');
    } else if (type === REC.END) {
      heading(pos, type, 'MESSAGE FILE END');
      break;
    } else if (f.env) {
      out.push(envRecord(pos, type, text, prefix));
    }
    pos = d.next;
  }
  return out.join('');
}

function envRecord(
  pos: number,
  type: number,
  text: string,
  prefix: (o: number, t: number) => string,
): string {
  switch (type) {
    case REC.SIZE: {
      const s = parseSize(text);
      if (s === undefined) return `${prefix(pos, type)}message_size: ${text}\n`;
      // Postfix's field order: content size, data offset, recipients, qmgr options, content length.
      const fields = [s.contentLength, s.contentOffset, s.rcptCount, 0, s.contentLength];
      return `${prefix(pos, type)}message_size: ${fields.map((n) => String(n).padStart(15, ' ')).join(' ')}\n`;
    }
    case REC.TIME: {
      const sec = Number(text.split(' ')[0]);
      return `${prefix(pos, type)}message_arrival_time: ${Number.isFinite(sec) ? ascTime(sec) : text}\n`;
    }
    case REC.WARN: {
      const sec = Number(text.trim());
      if (sec === 0) return '';
      return `${prefix(pos, type)}warning_message_time: ${ascTime(sec)}\n`;
    }
    case REC.ATTR: {
      if (text.startsWith('sender_fullname='))
        return `${prefix(pos, FULLNAME_TYPE)}sender_fullname: ${text.slice('sender_fullname='.length)}\n`;
      return `${prefix(pos, type)}named_attribute: ${text}\n`;
    }
    default: {
      const name = NAMES[type] ?? `unknown_record_type_${type}`;
      return `${prefix(pos, type)}${name}: ${text}\n`;
    }
  }
}

function main(argv: readonly string[]): void {
  msg.setProgram('postcat');
  exitQuietlyOnBrokenPipe();
  const p = getopt(argv, 'bc:dehoqrs:v');
  if (p.kind === 'error') {
    process.stderr.write(`postcat: ${p.message}\n`);
    die(USAGE);
  }
  const f: Flags = { env: false, head: false, body: false, offset: false, decimal: false, skip: 0 };
  let configDir: string | undefined;
  let byQueue = false;
  for (const { opt, arg } of p.opts) {
    if (opt === 'b') f.body = true;
    else if (opt === 'c') configDir = arg;
    else if (opt === 'd') f.decimal = true;
    else if (opt === 'e') f.env = true;
    else if (opt === 'h') f.head = true;
    else if (opt === 'o') f.offset = true;
    else if (opt === 'q') byQueue = true;
    else if (opt === 's') {
      if (!/^\d+$/.test(arg ?? '')) die(`bad offset: ${arg}`);
      f.skip = Number(arg);
    } else if (opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  if (!f.env && !f.head && !f.body) f.env = f.head = f.body = true;
  const cfg = loadMainConfig({ configDir });
  if (byQueue && p.operands.length === 0) die(USAGE);
  if (p.operands.length === 0) {
    process.stdout.write(show(readFileSync(0), 'stdin', f));
    return;
  }
  const layout = queueLayout(cfg);
  for (const operand of p.operands) {
    let path = operand;
    let name = operand;
    let buf: Buffer | undefined | null;
    if (byQueue) {
      // Postfix's test: letters, digits and '_' only, so a name never leaves its queue.
      if (!/^[A-Za-z0-9_]{1,100}$/.test(operand)) die(`bad mail queue ID: ${operand}`);
      for (const q of SEARCH) {
        path = queueFilePath(layout, q, operand);
        buf = tryRead(path);
        if (buf !== undefined) {
          name = relative(layout.directory, path);
          break;
        }
      }
      if (buf === undefined) die(`open queue file ${operand}: No such file or directory`);
    } else {
      buf = tryRead(path);
      if (buf === undefined) die(`open ${operand}: No such file or directory`);
    }
    if (buf !== null) process.stdout.write(show(buf, name, f));
  }
}

/** strerror() wording for the errors opening a file can give. */
const STRERROR: Readonly<Record<string, string>> = {
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
};

/** The file's bytes; undefined when it does not exist; null for a directory (warned about). */
function tryRead(path: string): Buffer | undefined | null {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    // Postfix opens a directory fine and only fails reading it; it says so at close.
    if (err.code === 'EISDIR') {
      msg.warn(`close ${path}: Is a directory`);
      return null;
    }
    die(`open ${path}: ${STRERROR[err.code ?? ''] ?? err.code ?? err.message}`);
  }
}

/** msg.fatal, declared so the compiler knows control ends here. */
function die(text: string): never {
  return msg.fatal(text);
}

main(process.argv.slice(2));
