/**
 * `--from <storage>` for restore and verify: each backup is read from its copy in that storage,
 * even when the local file is there. A copy is fetched into a private scratch folder under the
 * home's tmp/ (never into the backup folder), used only when its size and SHA-256 are the
 * catalog's, and removed again once the command is done with it.
 */
import { rmSync } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { copiesOf, type PlacedCopy } from '../catalog/copies.js';
import type { BattConfig } from '../config/load.js';
import { artifactFolderOf } from '../destination/folders.js';
import { BattError, describeError } from '../errors/errors.js';
import { makePrivateDir, privateScratch } from '../home/home.js';
import type { Logger } from '../log/logger.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { readText } from '../storage/storage.js';
import { copierOf, storageEntries, type Copier } from './storages.js';

export interface FromItem {
  id: number;
  runId: number;
  service: string;
  target: string;
  file: string | null;
  bytes: number | null;
  sha256: string | null;
}

export interface FetchedCopy {
  /** The scratch file holding the copy's bytes (proven against the catalog). */
  file: string;
  storage: string;
  key: string;
}

export interface CopySource {
  readonly storage: string;
  /** Fetches the item's copy into the scratch folder and proves it; throws INTEGRITY naming the storage and key. */
  fetch(item: FromItem): Promise<FetchedCopy>;
  /** The SHA256SUMS copied beside the item's copy, as text (undefined when there is none), and its key. */
  sums(item: FromItem): Promise<{ key: string; text: string | undefined }>;
  /** Removes one item's fetched file. */
  release(item: FromItem): void;
  /** Removes every fetched file and the scratch folder. */
  dispose(): void;
}

/**
 * Opens `--from <storage>` for `items`: throws (before anything is fetched) when the configuration
 * names no such storage (USAGE) or when any item has no confirmed copy there (NOT_FOUND).
 */
export function copySource(db: CatalogDb, config: BattConfig, home: string, storage: string, items: readonly FromItem[], log: Logger): CopySource {
  const known = storageEntries(config).map((e) => e.name!);
  if (!known.includes(storage)) {
    throw new BattError('USAGE', `--from ${storage}: the configuration names no storage "${storage}"`, {
      hint: known.length ? `its storages are ${known.join(', ')} (docs/storage.md)` : 'add it under storage: (docs/storage.md)',
    });
  }
  const all = copiesOf(
    db,
    items.map((i) => i.id),
  );
  const copyOf = new Map<number, PlacedCopy>();
  const lacking: string[] = [];
  for (const item of items) {
    const copy = (all.get(item.id) ?? []).find((c) => c.storage === storage);
    if (copy) copyOf.set(item.id, copy);
    else lacking.push(`run ${item.runId}'s ${item.service} backup of ${item.target}`);
  }
  if (lacking.length) {
    throw new BattError('NOT_FOUND', `the storage "${storage}" has no copy of ${lacking.slice(0, 5).join(', ')}${lacking.length > 5 ? ` (and ${lacking.length - 5} more)` : ''}`, {
      hint: '`batt show <run>` lists the copies of each backup; leave out --from to read the local files',
    });
  }
  let scratch: string | undefined;
  const copiers = new Map<number, Copier>();
  const fetched = new Map<number, string>();
  const copierFor = async (item: FromItem, copy: PlacedCopy): Promise<Copier> => {
    const cached = copiers.get(item.id);
    if (cached) return cached;
    const copier = await copierOf(config, item.service, copy);
    if (!copier)
      throw new BattError('CONFIG', `the ${item.service} service no longer lists the storage "${storage}", which holds its copy ${copy.key}`, {
        hint: `put ${storage} back in its storage: list to read the copy`,
      });
    copiers.set(item.id, copier);
    return copier;
  };
  const release = (item: FromItem): void => {
    const file = fetched.get(item.id);
    if (file) rmSync(join(file, '..'), { recursive: true, force: true });
    fetched.delete(item.id);
  };
  return {
    storage,
    async fetch(item) {
      const copy = copyOf.get(item.id)!;
      const copier = await copierFor(item, copy);
      scratch ??= privateScratch(home, 'from-');
      release(item);
      const folder = join(scratch, String(item.id));
      makePrivateDir(folder);
      // The artifact's own name: a drop-in's restore script and the compression by extension see what they would locally.
      const file = join(folder, basename(item.file!));
      fetched.set(item.id, file);
      try {
        await localStorage.put(file, copier.storage.get(copy.key));
        const got = await hashObject(localStorage, file);
        if ((item.bytes !== null && got.bytes !== item.bytes) || (item.sha256 !== null && got.sha256 !== item.sha256))
          throw new BattError(
            'INTEGRITY',
            `it does not match the catalog (${got.bytes} bytes, SHA-256 ${got.sha256.slice(0, 16)}…; the catalog has ${item.bytes} bytes, ${item.sha256?.slice(0, 16)}…)`,
          );
      } catch (error) {
        release(item);
        throw new BattError('INTEGRITY', `the copy of ${item.file} in ${storage} (${copy.key}) cannot be used: ${describeError(error)}`, {
          hint: 'check that storage (`batt catalog check`), or read another copy with --from, or the local file without it',
          cause: error,
        });
      }
      log.scoped(item.service).info(`read ${item.file} from its copy in ${storage} (${copy.key})`);
      return { file, storage, key: copy.key };
    },
    async sums(item) {
      const copy = copyOf.get(item.id)!;
      const copier = await copierFor(item, copy);
      // SHA256SUMS was copied beside the artifact as the folder holds it: its key is the copy's, moved the same way.
      const { folder } = artifactFolderOf(item.file!, item.runId);
      const up = relative(dirname(item.file!), join(folder, 'SHA256SUMS')).split(sep).join('/');
      const key = posix.join(posix.dirname(copy.key), up);
      return { key, text: await readText(copier.storage, key) };
    },
    release,
    dispose() {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      fetched.clear();
    },
  };
}
