/**
 * An item is `ok` only once its SHA256SUMS line and its run's manifest are on disk
 * (docs/guarantees.md): each placed file is written into them before its row says ok. Writes go
 * one at a time (items finish in parallel into shared folders); each rewrites the run's manifests
 * with all the run has placed so far.
 */
import { localStorage } from '../storage/local.js';
import type { CatalogDb } from '../catalog/db.js';
import { remoteOnly, runFailures } from '../catalog/queries.js';
import { BattError, describeError } from '../errors/errors.js';
import { writeManifests, type ManifestItem, type ManifestRun } from '../manifest/manifest.js';

export interface DurableMetadata {
  /** What the run has placed and recorded so far. */
  readonly items: readonly ManifestItem[];
  /** Records placed files in SHA256SUMS and the manifest; on failure they are removed again and the error goes on. */
  record(placed: ManifestItem[]): Promise<void>;
  /** Writes every manifest once more (with the run's failures too); returns their paths. */
  writeAll(): Promise<string[]>;
}

export function durableMetadata(db: CatalogDb, run: ManifestRun, folderOf: (item: ManifestItem) => string): DurableMetadata {
  const items: ManifestItem[] = [];
  let onDisk: Promise<unknown> = Promise.resolve();
  // What the files on disk were last written from: the same again (the end of a run whose items
  // all succeeded) needs no second look at them. Nothing else writes them while the run holds its lock.
  let last: { items: number; failures: string; written: string[] } | undefined;
  const writeAll = (): Promise<string[]> => {
    const next = onDisk.then(async () => {
      const failures = runFailures(db, run.id);
      const state = { items: items.length, failures: JSON.stringify(failures) };
      if (last && last.items === state.items && last.failures === state.failures) return last.written;
      last = undefined;
      const written = await writeManifests(run, items, folderOf, failures, remoteOnly(db));
      last = { ...state, written };
      return written;
    });
    onDisk = next.catch(() => {});
    return next;
  };
  return {
    items,
    writeAll,
    async record(placed) {
      items.push(...placed);
      try {
        await writeAll();
      } catch (error) {
        for (const item of placed) {
          items.splice(items.indexOf(item), 1);
          await localStorage.delete(item.file).catch(() => false);
        }
        throw new BattError('IO', `the backup was written but its SHA256SUMS line or manifest could not be: ${describeError(error)}; the backup file is removed again`, {
          cause: error,
        });
      }
    },
  };
}
