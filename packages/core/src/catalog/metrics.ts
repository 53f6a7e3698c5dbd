/**
 * Reads of the catalog for the metrics file (metrics/): the newest backup run, and per service and
 * target the newest backup, the newest good one, the suspect ones kept and the newest verify and
 * restore drill. Each asks one target at a time through the (service, target) indexes, so a
 * catalog of a million backups answers as fast as a small one.
 */
import type { CatalogDb } from './db.js';
import { targetsOf } from './items.js';

export interface NewestRun {
  id: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  /** Some backup of the run is (still) marked suspect. */
  suspect: boolean;
}

export interface TargetMetrics {
  service: string;
  target: string;
  /** The newest finished backup of the target, good or not. */
  newest: { status: string; suspect: boolean; startedAt: string; finishedAt: string | null };
  /** The newest good backup: ok and not suspect. */
  good?: { finishedAt: string | null; bytes: number | null };
  /** Backups kept that are marked suspect (not accepted). */
  suspects: number;
}

/** Returns the newest backup run that finished, or undefined when there is none. */
export function newestFinishedRun(db: CatalogDb): NewestRun | undefined {
  const row = db.$client
    .prepare(
      "select id, status, started_at, finished_at, exists(select 1 from items i where i.run_id = runs.id and i.suspect is not null) from runs where status <> 'running' order by id desc limit 1",
    )
    .raw()
    .get() as [number, string, string, string | null, number] | undefined;
  return row && { id: row[0], status: row[1], startedAt: row[2], finishedAt: row[3], suspect: row[4] === 1 };
}

/** Returns every target's metrics, in (service, target) order; a target with only running items is left out. */
export function targetMetrics(db: CatalogDb): TargetMetrics[] {
  const client = db.$client;
  const newest = client
    .prepare("select status, suspect is not null, started_at, finished_at from items where service = ? and target = ? and status <> 'running' order by id desc limit 1")
    .raw();
  const good = client.prepare("select finished_at, bytes from items where service = ? and target = ? and status = 'ok' and suspect is null order by id desc limit 1").raw();
  const suspects = client.prepare("select count(*) from items where service = ? and target = ? and status = 'ok' and suspect is not null and prune_id is null").pluck();
  const out: TargetMetrics[] = [];
  for (const [service, target] of targetsOf(db)) {
    const n = newest.get(service, target) as [string, number, string, string | null] | undefined;
    if (!n) continue;
    const g = good.get(service, target) as [string | null, number | null] | undefined;
    out.push({
      service,
      target,
      newest: { status: n[0], suspect: n[1] === 1, startedAt: n[2], finishedAt: n[3] },
      ...(g ? { good: { finishedAt: g[0], bytes: g[1] } } : {}),
      suspects: suspects.get(service, target) as number,
    });
  }
  return out;
}

/** Returns the newest finished verify and restore drill of each target, as rows of [service, target, kind, status, finished_at]. */
export function newestChecks(db: CatalogDb): [string, string, string, string, string | null][] {
  return db.$client
    .prepare(
      "select i.service, i.target, c.kind, c.status, c.finished_at, max(c.id) from checks c join items i on i.id = c.item_id where c.kind in ('verify', 'restore-test') and c.status in ('ok', 'failed') group by i.service, i.target, c.kind order by i.service, i.target, c.kind",
    )
    .raw()
    .all() as [string, string, string, string, string | null][];
}
