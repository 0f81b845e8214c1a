/*
 * postfix_check - "postfix check": what Postfix's postfix-script checks,
 * plus what Postroom cannot do
 *
 * checkFatal() creates missing queue directories and refuses a
 * configuration master cannot run (no master.cf, no postlog service while
 * $maillog_file is set), with Postfix's words. checkWarn() reports owners
 * and modes as postfix-script does (as root: root owns the queue
 * directory itself, $mail_owner the queues and $data_directory, group
 * $setgid_group maildrop/ and public/; as an ordinary user, that user owns
 * everything), damaged messages in corrupt/, then every main.cf parameter
 * Postroom does not implement and every master.cf service whose command
 * it lacks. Each problem is one line for the caller to log.
 */
import { existsSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';
import { strerror } from '../util/strerror.js';
import { lastOfEach, MasterCfError, readMasterCf } from './master_cf.js';
import {
  missingCommandText,
  unimplementedParams,
  unimplementedServiceParams,
  unimplementedText,
} from './master_check.js';
import { prepareQueue } from './master_queue.js';
import { buildServices } from './master_services.js';
import { getpwuid, isRoot, type Owners } from './master_user.js';

/** Null when master can run this configuration, else Postfix's fatal text. */
export async function checkFatal(cfg: MainConfig, owners: Owners): Promise<string | null> {
  try {
    await prepareQueue(cfg, owners);
  } catch {
    return 'unable to create missing queue directories';
  }
  const file = join(cfg.configDirectory, 'master.cf');
  if (!existsSync(file)) return `no ${file} file found`;
  if (cfg.get('maillog_file') !== '') {
    let hasPostlog = false;
    try {
      hasPostlog = lastOfEach(readMasterCf(cfg.configDirectory).entries).some(
        (e) => e.name === 'postlog' && e.type === 'unix-dgram',
      );
    } catch {
      // A broken master.cf is reported by master itself.
    }
    if (!hasPostlog) return "missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'";
  }
  return null;
}

const MAIL_OWNER_QUEUES = [
  'saved',
  'incoming',
  'active',
  'defer',
  'deferred',
  'bounce',
  'hold',
  'trace',
  'corrupt',
  'public',
  'private',
  'flush',
];

function statQuiet(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The path and everything under it (find order: a directory before its contents). */
function* walk(path: string): Generator<[string, Stats]> {
  const st = statQuiet(path);
  if (!st) return;
  yield [path, st];
  if (!st.isDirectory()) return;
  let names: string[];
  try {
    names = readdirSync(path).sort();
  } catch {
    return;
  }
  for (const n of names) yield* walk(join(path, n));
}

const writable = (st: Stats) => (st.mode & 0o022) !== 0;

/** The warnings "postfix check" prints, in postfix-script's order, then Postroom's own. */
export function checkWarn(cfg: MainConfig, owners: Owners): string[] {
  const out: string[] = [];
  const queueDir = cfg.get('queue_directory');
  const me = process.getuid?.() ?? 0;
  const rootUid = isRoot() ? 0 : me;
  const rootName = isRoot() ? 'root' : (getpwuid(me)?.name ?? String(me));
  const owner = owners.mailOwner;
  const ownerUid = owner ? owner.uid : me;
  const ownerName = owner ? owner.name : rootName;

  const top = [`${queueDir}/.`, join(queueDir, 'pid')];
  for (const p of top) {
    const st = statQuiet(p);
    if (st && st.uid !== rootUid) out.push(`not owned by ${rootName}: ${p}`);
  }
  for (const p of top) {
    const st = statQuiet(p);
    if (st && writable(st)) out.push(`group or other writable: ${p}`);
  }
  const confTree = [...walk(`${cfg.configDirectory}/.`)];
  for (const [p, st] of confTree) if (st.uid !== rootUid) out.push(`not owned by ${rootName}: ${p}`);
  for (const [p, st] of confTree)
    if (!st.isSymbolicLink() && writable(st)) out.push(`group or other writable: ${p}`);

  const dataTree = [...walk(`${cfg.get('data_directory')}/.`)];
  for (const [p, st] of dataTree) if (st.uid !== ownerUid) out.push(`not owned by ${ownerName}: ${p}`);
  for (const [p, st] of dataTree) if (writable(st)) out.push(`group or other writable: ${p}`);

  for (const q of MAIL_OWNER_QUEUES)
    for (const [p, st] of walk(join(queueDir, q)))
      if (!st.isFIFO() && !st.isSocket() && st.uid !== ownerUid) out.push(`not owned by ${ownerName}: ${p}`);
  const maildrop = join(queueDir, 'maildrop');
  const md = statQuiet(maildrop);
  if (md && md.uid !== ownerUid) out.push(`not owned by ${ownerName}: ${maildrop}`);
  if (owners.setgidGid !== null) {
    for (const p of [join(queueDir, 'public'), maildrop]) {
      const st = statQuiet(p);
      if (st && st.gid !== owners.setgidGid) out.push(`not owned by group ${cfg.get('setgid_group')}: ${p}`);
    }
  }
  for (const [p, st] of walk(join(queueDir, 'corrupt')))
    if (st.isFile()) out.push(`damaged message: ${p.slice(queueDir.length + 1)}`);

  for (const name of unimplementedParams(cfg)) out.push(unimplementedText(name));
  try {
    const cf = readMasterCf(cfg.configDirectory);
    const defs = buildServices(cfg, cf, 0);
    out.push(...unimplementedServiceParams(cfg, defs));
    for (const def of defs) {
      if (def.program.kind === 'missing') out.push(missingCommandText(def));
      else if (def.problem) out.push(`${def.key}: ${def.problem}`);
    }
  } catch (e) {
    out.push(e instanceof MasterCfError ? e.message : strerror(e));
  }
  return out;
}
