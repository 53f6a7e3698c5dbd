/**
 * The queries behind `batt serve` (docs/serve.md): each target's state, its history for the
 * charts, and the daily outcomes of the last days. Each reads a bounded part of the catalog
 * through an index, so a page costs the same with a million items.
 */
import type { CatalogDb } from './db.js';

export interface TargetRow {
  service: string;
  target: string;
  goodId: number | null;
  runId: number | null;
  at: string | null;
  bytes: number | null;
  local: number | null;
  failures: number;
  suspects: number;
}

/**
 * Every service and target the catalog knows with its newest good item (ok with a file, not
 * suspect) and the failed and suspect items after it. The distinct pairs are read by skipping
 * through items_service_target (a loose index scan), not by reading every item.
 */
export function targetRows(db: CatalogDb): TargetRow[] {
  return db.$client
    .prepare(
      `with recursive pairs(service, target) as (
         select * from (select service, target from items order by service, target limit 1)
         union all
         select (select i.service from items i where (i.service, i.target) > (p.service, p.target) order by i.service, i.target limit 1),
                (select i.target from items i where (i.service, i.target) > (p.service, p.target) order by i.service, i.target limit 1)
         from pairs p where p.service is not null
       ), good as (
         select p.service, p.target,
           (select max(g.id) from items g where g.service = p.service and g.target = p.target and g.status = 'ok' and g.suspect is null and g.file is not null) as id
         from pairs p where p.service is not null
       )
       select g.service, g.target, g.id as goodId, i.run_id as runId, i.started_at as at, i.bytes, i.local,
         (select count(*) from items f where f.service = g.service and f.target = g.target and f.status in ('failed', 'aborted') and f.id > coalesce(g.id, 0)) as failures,
         (select count(*) from items s where s.service = g.service and s.target = g.target and s.suspect is not null and s.id > coalesce(g.id, 0)) as suspects
       from good g left join items i on i.id = g.id`,
    )
    .all() as TargetRow[];
}

export interface LatestCheck {
  service: string;
  target: string;
  kind: 'verify' | 'restore-test';
  status: string;
  at: string;
  itemId: number;
  runId: number;
}

/** The newest finished verify and restore drill of each target (of any of its backups). */
export function latestChecks(db: CatalogDb): LatestCheck[] {
  return db.$client
    .prepare(
      `select i.service, i.target, c.kind, c.status, c.started_at as at, c.item_id as itemId, i.run_id as runId
       from checks c join items i on i.id = c.item_id
       where c.id in (
         select max(c2.id) from checks c2 join items i2 on i2.id = c2.item_id
         where c2.kind in ('verify', 'restore-test') and c2.status in ('ok', 'failed') group by i2.service, i2.target, c2.kind)`,
    )
    .all() as LatestCheck[];
}

export interface HistoryRow {
  runId: number;
  itemId: number;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  suspect: string | null;
  bytes: number | null;
  error: string | null;
}

/** A target's newest `limit` backups, newest first. */
export function targetHistory(db: CatalogDb, service: string, target: string, limit: number): HistoryRow[] {
  return db.$client
    .prepare(
      `select run_id as runId, id as itemId, started_at as startedAt, finished_at as finishedAt, status, suspect, bytes, error
       from items where service = ? and target = ? order by id desc limit ?`,
    )
    .all(service, target, limit) as HistoryRow[];
}

export interface DayCounts {
  /** YYYY-MM-DD in the server's time zone. */
  day: string;
  ok: number;
  failed: number;
  suspect: number;
  verified: number;
}

/**
 * Per day since `sinceIso`, the items that were ok, failed (or aborted), suspect, and proven
 * (a passed verify or drill); for one target, or all. Reads only the runs since then: run ids
 * grow with time, so the items come from the run_id index.
 */
export function dailyCounts(db: CatalogDb, sinceIso: string, only?: { service: string; target: string }): DayCounts[] {
  const filter = only ? 'and i.service = @service and i.target = @target' : '';
  return db.$client
    .prepare(
      `select date(i.started_at, 'localtime') as day,
         sum(i.status = 'ok' and i.suspect is null) as ok,
         sum(i.status in ('failed', 'aborted')) as failed,
         sum(i.suspect is not null) as suspect,
         sum(exists (select 1 from checks c where c.item_id = i.id and c.kind in ('verify', 'restore-test') and c.status = 'ok')) as verified
       from items i
       where i.run_id >= coalesce((select min(id) from runs where started_at >= @since), 1e18) and i.started_at >= @since ${filter}
       group by day order by day`,
    )
    .all({ since: sinceIso, ...only }) as DayCounts[];
}

/** The services the catalog has items of, by a loose scan of items_service_target. */
export function catalogServices(db: CatalogDb): string[] {
  return db.$client
    .prepare(
      `with recursive s(service) as (
         select min(service) from items
         union all
         select (select min(service) from items where service > s.service) from s where s.service is not null
       ) select service from s where service is not null`,
    )
    .pluck()
    .all() as string[];
}
