/**
 * A backup whose local file is gone (a dead disk, a deleted folder) comes back from one of its
 * copies: the copy is fetched to the file's own place, never over a file, and kept only when its
 * size and SHA-256 are the catalog's. Restore and verify then read it as they read any backup.
 * A backup sent straight to a storage (`keep_local: false`) is fetched so too, and its file
 * removed again once they are done (dropFetchedRemote).
 */
import type { CatalogDb } from '../catalog/db.js';
import { copiesOf } from '../catalog/copies.js';
import { remoteOnly } from '../catalog/queries.js';
import type { BattConfig } from '../config/load.js';
import { BattError, describeError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { copierOf } from './storages.js';

export interface FetchedItem {
  id: number;
  service: string;
  file: string | null;
  bytes: number | null;
  sha256: string | null;
}

/** Fetches the missing local files of `items` from their copies; returns the files fetched. */
export async function fetchMissing(db: CatalogDb, config: BattConfig, items: readonly FetchedItem[], log: Logger): Promise<string[]> {
  const fetched: string[] = [];
  const all = copiesOf(
    db,
    items.map((i) => i.id),
  );
  for (const item of items) {
    const copies = all.get(item.id) ?? [];
    if (!item.file || copies.length === 0 || (await localStorage.stat(item.file))) continue;
    const reasons: string[] = [];
    for (const copy of copies) {
      const copier = await copierOf(config, item.service, copy);
      if (!copier) {
        reasons.push(`${copy.storage}: no such storage in the configuration`);
        continue;
      }
      try {
        if (!(await localStorage.put(item.file, copier.storage.get(copy.key), { exclusive: true }))) break; // it came back meanwhile
        const got = await hashObject(localStorage, item.file);
        if (got.sha256 !== item.sha256 || got.bytes !== item.bytes) {
          await localStorage.delete(item.file);
          throw new Error(`it does not match the catalog (SHA-256 ${got.sha256.slice(0, 16)}…, ${got.bytes} bytes)`);
        }
        log.scoped(item.service).info(`fetched ${item.file} from ${copy.storage} (${copy.key}): the local copy was missing`);
        fetched.push(item.file);
        break;
      } catch (error) {
        reasons.push(`${copy.storage}: ${describeError(error)}`);
      }
    }
    if (!fetched.includes(item.file) && !(await localStorage.stat(item.file))) {
      throw new BattError('INTEGRITY', `the artifact ${item.file} is missing, and no copy of it could be fetched (${reasons.join('; ')})`, {
        hint: 'check the storages (docs/storage.md), or restore another backup (`batt runs`)',
      });
    }
  }
  return fetched;
}

/**
 * Deletes the fetched files of backups that were sent straight to a storage (`keep_local: false`)
 * once restore or verify is done with them: such a host keeps no local copies.
 */
export async function dropFetchedRemote(db: CatalogDb, fetched: readonly string[]): Promise<void> {
  const remote = remoteOnly(db);
  for (const file of fetched) if (remote(file)) await localStorage.delete(file).catch(() => false);
}
