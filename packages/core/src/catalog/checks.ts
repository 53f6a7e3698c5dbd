/**
 * Reads and writes of the `checks` table (verifies, restore drills and restores of items) for
 * retention, `batt accept` and crash recovery.
 */
import type { CatalogDb } from './db.js';
import { now } from './queries.js';

/**
 * The checks retention weighs, oldest first: every running one and every verify or restore drill.
 * Returns rows of [item id, kind, status, pid].
 */
export function retentionChecks(db: CatalogDb): [number, string, string, number | null][] {
  return db.$client.prepare("select item_id, kind, status, pid from checks where status = 'running' or kind in ('verify', 'restore-test') order by id").raw().all() as [
    number,
    string,
    string,
    number | null,
  ][];
}

/** Returns the newest check's id, 0 when there is none (a newer id means a check was recorded since). */
export function highestCheckId(db: CatalogDb): number {
  return db.$client.prepare('select coalesce(max(id), 0) from checks').pluck().get() as number;
}

/** Returns [check id, pid] of every check still marked running. */
export function runningChecks(db: CatalogDb): [number, number | null][] {
  return db.$client.prepare("select id, pid from checks where status = 'running'").raw().all() as [number, number | null][];
}

/** Marks these checks `aborted` (their batt died), each finished now. Returns nothing. */
export function abortChecks(db: CatalogDb, ids: readonly number[]): void {
  const closeCheck = db.$client.prepare("update checks set status = 'aborted', finished_at = ?, error = 'batt stopped before the check finished' where id = ?");
  for (const id of ids) closeCheck.run(now(), id);
}

/** Returns the items that passed a restore drill, each with its run id (item id → run id). */
export function drilledItems(db: CatalogDb): Map<number, number> {
  const drilled = new Map<number, number>();
  for (const [itemId, runId] of db.$client
    .prepare("select distinct c.item_id, i.run_id from checks c join items i on i.id = c.item_id where c.kind = 'restore-test' and c.status = 'ok'")
    .raw()
    .iterate() as IterableIterator<[number, number]>)
    drilled.set(itemId, runId);
  return drilled;
}

/**
 * The newest finished verify or restore drill of each of these items. Returns, by item id, its
 * [kind, status, error]; an item never checked has no entry.
 */
export function newestVerdicts(db: CatalogDb, itemIds: readonly number[]): Map<number, [string, string, string | null]> {
  const lastCheck = db.$client
    .prepare("select kind, status, error from checks where item_id = ? and kind in ('verify', 'restore-test') and status in ('ok', 'failed') order by id desc limit 1")
    .raw();
  const out = new Map<number, [string, string, string | null]>();
  for (const id of itemIds) {
    const check = lastCheck.get(id) as [string, string, string | null] | undefined;
    if (check) out.set(id, check);
  }
  return out;
}
