/*
 * master_queue - the queue and data directories master needs, created when
 * missing with Postfix's owners and modes
 *
 * Queues as in queue_dirs.ts plus public/ (0710) and private/ (0700) for
 * the service sockets and pid/ (0755) for master.pid. As root, the queues,
 * public/ and private/ belong to $mail_owner (group root, except maildrop/
 * and public/: group $setgid_group) and data_directory to $mail_owner;
 * pid/ stays root's. As an ordinary user everything is that user's. Existing
 * directories keep their contents and, unless asked, their owners ("postfix
 * check" reports wrong ones); the queue files are never touched.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { createQueueDirs, QUEUE_NAMES, queueLayout } from '../global/queue_dirs.js';
import { isWriterTempName } from '../global/queue_file_writer.js';
import type { Owners } from './master_user.js';

const EXTRA_DIRS: Readonly<Record<string, number>> = { public: 0o710, private: 0o700, pid: 0o755 };

/**
 * Create what is missing. Owners are given to the directories made now;
 * `fixExisting` ("postfix set-permissions") gives them to every one.
 */
export async function prepareQueue(cfg: MainConfig, owners: Owners, fixExisting = false): Promise<void> {
  const layout = queueLayout(cfg);
  const dataDir = cfg.get('data_directory');
  const all = [...QUEUE_NAMES, ...Object.keys(EXTRA_DIRS)].map((n) => join(layout.directory, n));
  const existed = new Set([...all, dataDir].filter((d) => existsSync(d)));
  await createQueueDirs(layout);
  for (const [name, mode] of Object.entries(EXTRA_DIRS)) {
    const dir = join(layout.directory, name);
    mkdirSync(dir, { recursive: true, mode });
    if (fixExisting || !existed.has(dir)) chmodSync(dir, mode);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const owner = owners.mailOwner;
  if (!owner) return;
  const give = (dir: string, uid: number, gid: number) => {
    if (fixExisting || !existed.has(dir)) chownSync(dir, uid, gid);
  };
  for (const name of [...QUEUE_NAMES, 'public', 'private']) {
    const gid = name === 'maildrop' || name === 'public' ? (owners.setgidGid ?? 0) : 0;
    give(join(layout.directory, name), owner.uid, gid);
  }
  give(join(layout.directory, 'pid'), 0, 0);
  give(dataDir, owner.uid, 0);
}

/**
 * Remove the temporary files a killed cleanup left in incoming/. Called
 * with the master lock held and before any service runs, so no writer can
 * own them; maildrop/ is left alone (sendmail writes there without master,
 * postsuper -p clears old ones).
 */
export function removeStaleTempFiles(cfg: MainConfig): void {
  const dir = join(cfg.get('queue_directory'), 'incoming');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter(isWriterTempName)) {
    rmSync(join(dir, name), { force: true });
    msg.info(`removed stale temporary file incoming/${name}`);
  }
}
