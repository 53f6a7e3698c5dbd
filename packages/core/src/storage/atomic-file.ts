/**
 * Atomic, never-overwriting placement of a finished artifact: it is written under a temporary
 * dot-name, fsynced, hard-linked to its final name (which fails rather than replace an existing
 * file), the temporary name removed and the folder fsynced. A run killed at any point leaves at
 * most a `.batt-tmp-*` file, never a file that looks finished.
 */
import { randomBytes } from 'node:crypto';
import { close, constants, fchmod, fsync, open as openFd, readdirSync, rmSync } from 'node:fs';
import { pidAlive } from '../home/lock.js';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openRaw = promisify(openFd);
const fchmodFd = promisify(fchmod);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

export const TEMP_PREFIX = '.batt-tmp-';

/** A new temporary name in `dir`: the writer's pid (clearDeadTemps reads it) and a random part. */
export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}
/** A temporary file of batt's writer, or a drop-in script's staging folder, with its writer's pid. */
const tempName = /^\.batt-(?:tmp|staging)-(\d+)-[0-9A-Za-z]+$/;

/**
 * Removes the temporary files that batts which died (killed, power cut) left in `folders`: their
 * names carry the writer's pid, and a pid that is not alive writes nothing any more. Returns the
 * paths removed. A folder that is not there is skipped.
 */
export function clearDeadTemps(folders: Iterable<string>): string[] {
  const removed: string[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = Number(tempName.exec(name)?.[1] ?? 0);
      if (!pid || pid === process.pid || pidAlive(pid)) continue;
      try {
        rmSync(join(folder, name), { recursive: true, force: true });
        removed.push(join(folder, name));
      } catch {
        // gone already, or not ours to remove: catalog check reports what stays
      }
    }
  }
  return removed;
}

export interface TempFile {
  fd: number;
  path: string;
  dir: string;
  /** Set once the fd is closed: it must not be closed again (the number may be another file's by then). */
  closed?: boolean;
}

/** Opens a new 0600 temporary file in `dir`. */
export async function openTemp(dir: string): Promise<TempFile> {
  const path = tempPath(dir);
  // A raw fd, not a FileHandle: the sink writes with fs.write, and a FileHandle would close
  // itself when garbage-collected.
  const fd = await openRaw(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  await fchmodFd(fd, 0o600);
  return { fd, path, dir };
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Places `from` at `to` unless `to` exists; false when it does. */
async function placeNoClobber(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    await unlink(from);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
    // Filesystems without hard links: check, then rename.
    if (await exists(to)) return false;
    await rename(from, to);
    return true;
  }
}

/**
 * Moves a finished file to `base + ext` in `dir`, or to `base-<suffix>[-n] + ext` when that name
 * is taken, so a finished backup is never overwritten. Returns the name used.
 */
export async function placeFile(path: string, dir: string, base: string, ext: string, suffix: string): Promise<string> {
  const candidates = [`${base}${ext}`, `${base}-${suffix}${ext}`];
  for (let n = 2; n < 1000; n++) candidates.push(`${base}-${suffix}-${n}${ext}`);
  for (const name of candidates) {
    if (await placeNoClobber(path, join(dir, name))) {
      try {
        await fsyncDir(dir);
      } catch (error) {
        // Not known to be on disk: no file may stand under a final name for a failed item.
        await unlink(join(dir, name)).catch(() => {});
        throw error;
      }
      return name;
    }
  }
  throw new Error(`no free file name for ${base}${ext} in ${dir}`);
}

/** fsyncs and closes a temporary file whose contents are complete. */
export async function finishTemp(temp: TempFile): Promise<void> {
  await fsyncFd(temp.fd);
  temp.closed = true;
  await closeFd(temp.fd);
}

/** Closes and removes a temporary file whose contents are not to be kept. */
export async function discardTemp(temp: TempFile): Promise<void> {
  if (!temp.closed) await closeFd(temp.fd).catch(() => {});
  temp.closed = true;
  await unlink(temp.path).catch(() => {});
}
