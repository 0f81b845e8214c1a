/*
 * atomic_file - replace a whole file so that a reader, or a crash, sees
 * either the old content or the new one, never a mix
 *
 * The new content goes to a temporary file in the same directory (same
 * file system, so rename is atomic), is fsync'd, renamed over the file,
 * and then the directory is fsync'd so the rename itself survives a crash.
 */

import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** fsync a directory after a rename in it. Some file systems refuse; the rename is done anyway. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // nothing to do: see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `data` to `path` durably and atomically. An existing file keeps its
 * permissions; a new one gets `createMode`. `tmpPath` names the temporary
 * file where a caller's messages must name it (postconf's "master.cf.tmp").
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array,
  opts: { readonly createMode?: number; readonly tmpPath?: string } = {},
): void {
  let mode = opts.createMode ?? 0o644;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    // a new file
  }
  const dir = dirname(path);
  const tmp = opts.tmpPath ?? join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const fd = openSync(tmp, opts.tmpPath ? 'w' : 'wx', mode);
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  syncDirectory(dir);
}
