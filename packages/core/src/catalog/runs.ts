/**
 * Reads of the `runs` table for crash recovery, retention and the orphan scan (the writes of a
 * run's life are in queries.ts).
 */
import type { CatalogDb } from './db.js';

/** Returns every destination pattern a run used, each once. */
export function runDestinations(db: CatalogDb): string[] {
  return db.$client.prepare('select distinct destination from runs').pluck().all() as string[];
}

/** Returns the id of every run. */
export function runIds(db: CatalogDb): number[] {
  return (db.$client.prepare('select id from runs').raw().all() as [number][]).map(([id]) => id);
}

/** Returns every run's bundle file, one at a time. */
export function* bundleFiles(db: CatalogDb): Generator<string> {
  for (const [file] of db.$client.prepare('select bundle_file from runs where bundle_file is not null').raw().iterate() as IterableIterator<[string]>) yield file;
}

/** Returns the 20 newest aborted runs, newest first, as [destination, started_at, services, host]. */
export function recentAbortedRuns(db: CatalogDb): [string | null, string, string | null, string | null][] {
  return db.$client.prepare("select destination, started_at, services, host from runs where status = 'aborted' order by id desc limit 20").raw().all() as [
    string | null,
    string,
    string | null,
    string | null,
  ][];
}

/** Returns the aborted runs among the last `recent` run ids, oldest first, as [id, destination, started_at, host]. */
export function abortedRunsAmongLast(db: CatalogDb, recent: number): [number, string | null, string, string | null][] {
  return db.$client
    .prepare("select id, destination, started_at, host from runs where status = 'aborted' and id > (select coalesce(max(id), 0) - ? from runs) order by id")
    .raw()
    .all(recent) as [number, string | null, string, string | null][];
}

/**
 * The runs a prune's marked items belong to that have a bundle and would be left without any
 * backup file. Returns them as [run id, bundle file].
 */
export function bundlesLeftByPrune(db: CatalogDb, pruneId: number): [number, string][] {
  return db.$client
    .prepare(
      'select r.id, r.bundle_file from runs r where r.bundle_file is not null and r.id in (select run_id from items where prune_id = ?) and not exists (select 1 from items j where j.run_id = r.id and j.file is not null and (j.prune_id is null or j.prune_id <> ?))',
    )
    .raw()
    .all(pruneId, pruneId) as [number, string][];
}
