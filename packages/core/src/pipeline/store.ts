/**
 * Store stage: the artifact is written into a new file of the local storage that has no name yet,
 * and placed under its final name (never over an existing file) only once every stage succeeded.
 * Copies to other storages start from the placed file. With `keep_local: false` the artifact
 * goes to a storage's put instead, under a name chosen first (freeRemoteName).
 */
import { join } from 'node:path';
import { fromSystemError } from '../errors/errors.js';
import { makeTrustedDir } from '../home/home.js';
import { localStorage, type NewFile } from '../storage/local.js';
import type { Storage } from '../storage/storage.js';

/** A new file in `dir` (made, and checked trusted, when missing). */
export async function storeStage(dir: string): Promise<NewFile> {
  try {
    makeTrustedDir(dir);
    return await localStorage.create(dir);
  } catch (error) {
    throw fromSystemError(error, `cannot create the backup folder ${dir}`);
  }
}

/** Where an artifact goes with `keep_local: false`: the first storage (a Copier of copies/storages.ts). */
export interface RemoteStore {
  name: string;
  storage: Storage;
  /** The key for the local path the file would have had. */
  keyFor(file: string): string;
}

/** Names being written by this process, by storage and key: two items never pick the same one. */
const taken = new Set<string>();

/**
 * The first free name of `base + ext`, `base-<suffix> + ext`, `base-<suffix>-2 + ext`, … (as a
 * placed file gets) that is neither a local file, nor an object in the storage, nor being
 * written by this process: the path the file would have had, its key, and `release` to call once
 * the put settled.
 */
export async function freeRemoteName(remote: RemoteStore, dir: string, base: string, ext: string, suffix: string): Promise<{ path: string; key: string; release(): void }> {
  const candidates = [`${base}${ext}`, `${base}-${suffix}${ext}`];
  for (let n = 2; n < 1000; n++) candidates.push(`${base}-${suffix}-${n}${ext}`);
  for (const name of candidates) {
    const path = join(dir, name);
    const key = remote.keyFor(path);
    const id = `${remote.name}\0${key}`;
    if (taken.has(id) || (await localStorage.stat(path)) || (await remote.storage.stat(key))) continue;
    if (taken.has(id)) continue; // taken while this one was asked about
    taken.add(id);
    return { path, key, release: () => void taken.delete(id) };
  }
  throw new Error(`no free name for ${base}${ext} in ${remote.name}`);
}
