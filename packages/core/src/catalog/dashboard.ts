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
  /** The newest item of the target, good or not. */
  lastId: number;
}

/** The services items has, one index seek each on items_service_target (a loose index scan); the last row is null. */
const servicesWalk = `services(service) as (
         select min(service) from items
         union all
         select (select min(service) from items where service > s.service) from services s where s.service is not null
       )`;

/**
 * Every service and target the catalog knows with its newest good item (ok with a file, not
 * suspect) and the failed and suspect items after it. The distinct pairs are read by skipping
 * through items_service_target (a loose index scan), not by reading every item.
 */
export function targetRows(db: CatalogDb): TargetRow[] {
  // Service by service, then target by target: one index seek per step. (A row-value step,
  // `(service, target) > (?, ?)`, seeks on service only and took 0.36 s on a million items.)
  return db.$client
    .prepare(
      `with recursive ${servicesWalk}, pairs(service, target) as (
         select service, (select min(target) from items where service = s.service) from services s where s.service is not null
         union all
         select p.service, (select min(target) from items where service = p.service and target > p.target) from pairs p where p.target is not null
       ), good as materialized (
         select p.service, p.target,
           (select g.id from items g where g.service = p.service and g.target = p.target and g.status = 'ok' and g.suspect is null and g.file is not null
            order by g.id desc limit 1) as id
         from pairs p where p.target is not null
       )
       select g.service, g.target, g.id as goodId, i.run_id as runId, i.started_at as at, i.bytes, i.local,
         (select count(*) from items f where f.service = g.service and f.target = g.target and f.status in ('failed', 'aborted') and f.id > coalesce(g.id, 0)) as failures,
         (select count(*) from items s where s.service = g.service and s.target = g.target and s.suspect is not null and s.id > coalesce(g.id, 0)) as suspects,
         (select max(l.id) from items l where l.service = g.service and l.target = g.target) as lastId
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

/** A time's day in the server's time zone: YYYY-MM-DD. */
export const localDay = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

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
 * (a passed verify or drill); for one target, or all. All targets: only the runs since then are
 * read (run ids grow with time, so the items come from the run_id index); one target: from
 * items_retention. SQLite counts by the UTC quarter-hour a backup started (its `localtime` costs
 * more than the rest of the query), and each is put on its local day here: time zones are whole
 * quarter-hours apart from UTC (India +5:30, Nepal +5:45).
 */
export function dailyCounts(db: CatalogDb, sinceIso: string, only?: { service: string; target: string }): DayCounts[] {
  const range = only
    ? 'i.service = @service and i.target = @target and i.started_ms >= @sinceMs'
    : // a run that started a day before may still hold items of the first day
      'i.run_id >= coalesce((select min(id) from runs where started_at >= @runsSince), 1e18) and i.started_at >= @since';
  const hours = db.$client
    .prepare(
      `select substr(i.started_at, 1, 13) as hour, cast(substr(i.started_at, 15, 2) as integer) / 15 as quarter,
         sum(i.status = 'ok' and i.suspect is null) as ok,
         sum(i.status in ('failed', 'aborted')) as failed,
         sum(i.suspect is not null) as suspect,
         sum(exists (select 1 from checks c where c.item_id = i.id and c.kind in ('verify', 'restore-test') and c.status = 'ok')) as verified
       from items i where ${range} group by hour, quarter`,
    )
    .all({ since: sinceIso, runsSince: new Date(Date.parse(sinceIso) - 86_400_000).toISOString(), sinceMs: Date.parse(sinceIso), ...only }) as ({
    hour: string;
    quarter: number;
  } & Omit<DayCounts, 'day'>)[];
  const days = new Map<string, DayCounts>();
  for (const { hour, quarter, ...counts } of hours) {
    const day = localDay(new Date(`${hour}:${String(quarter * 15).padStart(2, '0')}:00Z`));
    const sum = days.get(day) ?? { day, ok: 0, failed: 0, suspect: 0, verified: 0 };
    days.set(day, { day, ok: sum.ok + counts.ok, failed: sum.failed + counts.failed, suspect: sum.suspect + counts.suspect, verified: sum.verified + counts.verified });
  }
  return [...days.values()];
}

/** The services the catalog has items of. */
export function catalogServices(db: CatalogDb): string[] {
  return db.$client.prepare(`with recursive ${servicesWalk} select service from services where service is not null`).pluck().all() as string[];
}
