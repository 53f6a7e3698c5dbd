/**
 * Reads and writes of the `checks` table (verifies, restore drills and restores of items) for
 * retention, `batt accept` and crash recovery.
 */
import type { CatalogDb } from './db.js';
import { now } from './queries.js';

/** The running checks (verifies, drills, restores) a prune must not pull items from under: rows of [item id, kind, pid]. */
export function runningItemChecks(db: CatalogDb): [number, string, number | null][] {
  return db.$client.prepare("select item_id, kind, pid from checks indexed by checks_running where status = 'running'").raw().all() as [number, string, number | null][];
}

/** The last finished verify or restore drill of every item checked: item id → 'ok' or 'failed'. */
export function lastVerdicts(db: CatalogDb): Map<number, string> {
  const verdicts = new Map<number, string>();
  const rows = db.$client.prepare("select item_id, status from checks where kind in ('verify', 'restore-test') and status in ('ok', 'failed') order by id").raw();
  for (const [itemId, status] of rows.iterate() as IterableIterator<[number, string]>) verdicts.set(itemId, status);
  return verdicts;
}

/** Items whose last finished verify or restore drill failed (the few that lastVerdicts maps to 'failed'). */
export function failedVerdicts(db: CatalogDb): Set<number> {
  const ids = db.$client
    .prepare(
      `select distinct c.item_id from checks c indexed by checks_failed where c.kind in ('verify', 'restore-test') and c.status = 'failed' and not exists (
        select 1 from checks d where d.item_id = c.item_id and d.id > c.id and d.kind in ('verify', 'restore-test') and d.status in ('ok', 'failed'))`,
    )
    .pluck()
    .all() as number[];
  return new Set(ids);
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

/** `service\0target` of every target that ever passed a restore drill (kept by a trigger): a target not here has no drilled backup. */
export function drilledTargets(db: CatalogDb): Set<string> {
  return new Set(db.$client.prepare('select service || char(0) || target from drilled_targets').pluck().all() as string[]);
}

/**
 * Items that passed a restore drill and are still backups a prune plans for (finished, not being
 * pruned), by service and target: `service\0target` → [item id, run id][], by item id.
 */
export function drilledItems(db: CatalogDb): Map<string, [number, number][]> {
  const drilled = new Map<string, [number, number][]>();
  // Grouped by SQLite: a year of drills is tens of thousands of items, in a few rows.
  const rows = db.$client
    .prepare(
      `select i.service || char(0) || i.target, json_group_array(json_array(c.item_id, i.run_id)) from (
        select distinct item_id from checks indexed by checks_drilled where kind = 'restore-test' and status = 'ok') c
      join items i indexed by items_details on i.id = c.item_id where i.prune_id is null and i.status <> 'running' group by 1`,
    )
    .raw()
    .all() as [string, string][];
  for (const [key, pairs] of rows)
    drilled.set(
      key,
      (JSON.parse(pairs) as [number, number][]).sort(([a], [b]) => a - b),
    );
  return drilled;
}

/** True when one of these items passed a restore drill; asks in slices, in the order given, and stops at the first. */
export function anyDrilled(db: CatalogDb, itemIds: readonly number[]): boolean {
  const drilled = db.$client
    .prepare("select 1 from checks indexed by checks_drilled where item_id in (select value from json_each(?)) and kind = 'restore-test' and status = 'ok' limit 1")
    .pluck();
  for (let i = 0; i < itemIds.length; i += 500) if (drilled.get(JSON.stringify(itemIds.slice(i, i + 500)))) return true;
  return false;
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
