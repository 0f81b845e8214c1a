/*
 * NAME
 *	postsuper - Postroom superintendent
 * SYNOPSIS
 *	postsuper [-psSv] [-c config_dir] [-d queue_id] [-e queue_id]
 *		[-f queue_id] [-h queue_id] [-H queue_id] [-r queue_id]
 *		[directory ...]
 * DESCRIPTION
 *	Maintenance of the queue, as Postfix 3.7's postsuper:
 *	-d delete a message (and its bounce, defer and trace logs) from
 *	   maildrop, incoming, active, deferred or hold;
 *	-h put a message from incoming, active or deferred on hold;
 *	-H release a held message to deferred;
 *	-r requeue a message from incoming, active, deferred or hold into
 *	   maildrop, where pickup gives it to cleanup again (recipients
 *	   already done stay done);
 *	-s repair the structure: files in the hashed subdirectory their
 *	   name and hash_queue_names/hash_queue_depth call for, short queue
 *	   IDs renamed to match their inode number;
 *	-p remove temporary files older than a day that a writer left behind.
 *	Without options, -s and -p. Each of -d -h -H -r takes a queue ID,
 *	ALL (upper case) or "-" (IDs from standard input, one a line), and
 *	may be repeated; directory operands limit the queues. Each message
 *	acted on by ID is logged ("ID: removed"), and each operation ends
 *	with a summary ("Deleted: 2 messages"), on stderr and in maillog_file.
 *	-e marks a message (hold, incoming, active, deferred) for forced
 *	   expiration: qmgr returns it to the sender at its next attempt;
 *	-f does the same and also releases it when it is on hold.
 *	-S is accepted as -s.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on a fatal error (bad option, invalid directory
 *	name, no queue directory, not the superuser or the queue's owner).
 * CONFIGURATION PARAMETERS
 *	queue_directory, hash_queue_names, hash_queue_depth, maillog_file,
 *	syslog_name.
 */

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadMainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { queueLayout } from '../global/queue_dirs.js';
import { getpwnam } from '../master/master_user.js';
import { commandLog } from '../postsuper/command_log.js';
import {
  allIds,
  applyOne,
  DIRECTORY_NAMES,
  fixStructure,
  MESSAGE_QUEUES,
  type Operation,
  purgeTemporary,
  queueIdOk,
  SOURCES,
  summary,
  WORDS,
} from '../postsuper/ops.js';
import { getopt } from '../util/getopt.js';
import { strerror } from '../util/strerror.js';

msg.setProgram('postsuper');

const USAGE =
  'usage: postsuper [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] [-f queue_id (expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] [-S (redundant structure fix)][-v (verbose)] [queue...]';

/** The order Postfix runs (and reports) the per-message operations in. */
const ORDER: readonly Operation[] = ['requeue', 'delete', 'expire', 'hold', 'release'];
const LETTER: Readonly<Record<string, readonly Operation[]>> = {
  d: ['delete'],
  e: ['expire'],
  // -f: expire, and release when on hold.
  f: ['expire', 'release'],
  h: ['hold'],
  H: ['release'],
  r: ['requeue'],
};
/** Markers for "-" arguments (never queue IDs: they contain a NUL). */
const STDIN = '\0stdin';
const NO_INPUT = '\0eof';
/** Temporary files younger than this may belong to a writer still at work. */
const TEMP_MAX_AGE = 24 * 3600;

async function readStdinIds(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

async function main(): Promise<void> {
  const parsed = getopt(process.argv.slice(2), 'c:d:e:f:h:H:pr:sSv');
  if (parsed.kind === 'error') {
    process.stderr.write(`postsuper: ${parsed.message}\n`);
    return msg.fatal(USAGE);
  }
  let configDir: string | undefined;
  const wanted = new Map<Operation, string[]>();
  let structure = false;
  let stdinTaken = false;
  let purge = false;
  for (const o of parsed.opts) {
    const ops = LETTER[o.opt];
    if (ops !== undefined) {
      // Standard input is read once: the first "-" gets it, a later one finds its end (as Postfix).
      let arg = o.arg ?? '';
      if (arg === '-') arg = stdinTaken ? NO_INPUT : STDIN;
      if (arg === STDIN) stdinTaken = true;
      for (const op of ops) {
        const list = wanted.get(op) ?? [];
        list.push(arg);
        wanted.set(op, list);
      }
    } else if (o.opt === 'c') configDir = o.arg;
    else if (o.opt === 's' || o.opt === 'S') structure = true;
    else if (o.opt === 'p') purge = true;
    else if (o.opt === 'v') msg.setVerbose(msg.verbose + 1);
  }
  if (wanted.size === 0 && !structure && !purge) {
    structure = true;
    purge = true;
  }
  const cfg = loadMainConfig({ configDir });
  const layout = queueLayout(cfg);
  let owner: number;
  try {
    owner = statSync(layout.directory).uid;
  } catch (e) {
    return msg.fatal(`chdir ${layout.directory}: ${strerror(e)}`);
  }
  // Postfix: root only. Run as an ordinary user, the queue's owner is its superintendent.
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0 && uid !== owner) msg.fatal('use of this command is reserved for the superuser');
  commandLog(cfg, 'postsuper', { stderr: 'always' });
  // As Postfix's postsuper, root works on the queue as mail_owner: what it creates (hashed
  // subdirectories, moved files) must stay readable by the daemons. The log is open already.
  // (A queue whose directories root owns, as tests build, is left to root.)
  const mailOwner = uid === 0 ? getpwnam(cfg.get('mail_owner')) : undefined;
  if (mailOwner && mailOwner.uid !== 0 && ownerOf(join(layout.directory, 'active')) === mailOwner.uid) {
    process.setgroups?.([mailOwner.gid]);
    process.setgid?.(mailOwner.gid);
    process.setuid?.(mailOwner.uid);
  }
  for (const d of parsed.operands)
    if (!DIRECTORY_NAMES.includes(d)) msg.fatal(`invalid directory name: ${d}`);

  const dirs = parsed.operands.length > 0 ? parsed.operands : DIRECTORY_NAMES;
  if (structure) {
    const { renamed } = await fixStructure(layout, dirs);
    if (renamed > 0) {
      msg.info(`Renamed to match inode number: ${renamed} message${renamed === 1 ? '' : 's'}`);
      msg.warn('QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS');
    }
  }
  if (purge) {
    const n = await purgeTemporary(
      layout,
      dirs.filter((d) => MESSAGE_QUEUES.includes(d)),
      TEMP_MAX_AGE,
    );
    if (n > 0) msg.info(`Deleted: ${n} temporary file${n === 1 ? '' : 's'}`);
  }

  let stdinIds: string[] | undefined;
  // Postfix reports every operation's count at the end, after all the per-message lines.
  const summaries: string[] = [];
  for (const op of ORDER) {
    const ids = wanted.get(op);
    if (ids === undefined) continue;
    const queues = SOURCES[op].filter((q) => dirs.includes(q));
    let count = 0;
    for (const id of ids) {
      if (id === 'ALL') {
        for (const m of await allIds(layout, queues))
          if (await applyOne(layout, op, [m.queue], m.id)) count++;
        continue;
      }
      let list = [id];
      if (id === STDIN) list = stdinIds ??= await readStdinIds();
      else if (id === NO_INPUT) list = [];
      for (const one of list) {
        if (!queueIdOk(one)) {
          msg.warn(`invalid mail queue id: ${one}`);
          continue;
        }
        if (await applyOne(layout, op, queues, one)) {
          count++;
          msg.info(`${one}: ${WORDS[op].line}`);
        }
      }
    }
    summaries.push(summary(op, count));
  }
  for (const line of summaries) msg.info(line);
}

main().catch((e: unknown) => msg.fatal(strerror(e)));

function ownerOf(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}
