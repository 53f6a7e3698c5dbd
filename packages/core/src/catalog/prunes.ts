/**
 * Reads and writes of the `prunes` table, the journal of prunes and purges, with the writes
 * that must go with them in one transaction.
 */
import type { CatalogDb } from './db.js';
import { now } from './queries.js';

/** Records a new prune, running, by this process, with its rules as given. Returns its id. */
export function insertPrune(db: CatalogDb, rules: string): number {
  return Number(db.$client.prepare("insert into prunes (started_at, status, rules, pid) values (?, 'running', ?, ?)").run(now(), rules, process.pid).lastInsertRowid);
}

/**
 * Removes a prune's rows in one transaction once its files are gone: its marked items, the
 * bundle columns of `bundleRunIds`, the runs its items belonged to that are left without any
 * item; and closes the prune as ok, adding `removed` and `bytes` to its totals. Returns nothing.
 */
export function removePrunedRows(db: CatalogDb, pruneId: number, bundleRunIds: readonly number[], removed: number, bytes: number): void {
  const client = db.$client;
  client.transaction(() => {
    const runIds = client.prepare('select distinct run_id from items where prune_id = ?').pluck().all(pruneId) as number[];
    client.prepare('delete from items where prune_id = ?').run(pruneId);
    const clearBundle = client.prepare('update runs set bundle_file = null, bundle_bytes = null, bundle_sha256 = null where id = ?');
    for (const runId of bundleRunIds) clearBundle.run(runId);
    const dropRun = client.prepare('delete from runs where id = ? and not exists (select 1 from items where run_id = ?)');
    for (const runId of runIds) dropRun.run(runId, runId);
    client.prepare("update prunes set status = 'ok', finished_at = ?, removed = removed + ?, bytes = bytes + ? where id = ?").run(now(), removed, bytes, pruneId);
  })();
}

/** Records why a prune stopped (it stays running, for the next prune to finish). Returns nothing. */
export function setPruneError(db: CatalogDb, pruneId: number, message: string): void {
  db.$client.prepare('update prunes set error = ? where id = ?').run(message, pruneId);
}

/** Returns the ids of prunes still marked running (a dead batt's, when the lock is held), oldest first. */
export function openPruneIds(db: CatalogDb): number[] {
  return db.$client.prepare("select id from prunes where status = 'running' order by id").pluck().all() as number[];
}
