/**
 * `batt runs` and a run's page: the runs with their totals, and one run with its items. Plain
 * statements, each prepared once per connection, over the bare SQLite connection: no drizzle is
 * loaded for them (`batt runs` answers in about the time Node takes to start), and `batt serve`
 * lists runs on every page without building the same queries again.
 */
import type { Database } from 'better-sqlite3';
import { prepared } from './client.js';
import type { ItemRow, RunRow, RunStatus } from './schema.js';

/** What these queries need of a catalog: its connection (a CatalogDb has one). */
export interface CatalogClient {
  $client: Database;
}

export interface RunFilter {
  service?: string;
  status?: RunStatus;
  last?: number;
  /** Keyset paging: only runs with a smaller id (the last id of the page before). */
  before?: number;
  /** Runs started at or after this time (ISO), and before `until`. */
  since?: string;
  until?: string;
}

export interface RunSummary extends RunRow {
  items: number;
  /** Items that failed or were aborted (not those still running). */
  failedItems: number;
  /** Items still being backed up. */
  runningItems: number;
  /** Items marked suspect (their size or rows fell sharply). */
  suspectItems: number;
  bytes: number;
  /** The newest verify or restore drill of the run's items: `ok`, `failed`, or null when never checked. */
  checked: string | null;
  /** Confirmed copies of the run's items in other storages (docs/storage.md), in all and by storage. */
  copies: number;
  copiesByStorage: Record<string, number>;
}

const runColumns = `id, started_at as startedAt, finished_at as finishedAt, status, host, user, destination, services, pid, error,
  bundle_file as bundleFile, bundle_bytes as bundleBytes, bundle_sha256 as bundleSha256`;

/**
 * A page of runs with their totals. Plain statements, each prepared once per connection (the
 * run ids go in as one JSON array): `batt serve` lists runs on every page, and building the same
 * queries through drizzle for each one cost ~370 KB of garbage per page.
 */
export function listRuns(db: CatalogClient, filter: RunFilter): RunSummary[] {
  const where = [
    filter.status && 'status = @status',
    filter.before !== undefined && 'id < @before',
    filter.since && 'started_at >= @since',
    filter.until && 'started_at < @until',
    filter.service && 'exists (select 1 from items where items.run_id = runs.id and items.service = @service)',
  ].filter(Boolean);
  const rows = prepared(db, `select ${runColumns} from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit @last`).all({
    status: filter.status,
    before: filter.before,
    since: filter.since,
    until: filter.until,
    service: filter.service,
    last: filter.last ?? 20,
  }) as RunRow[];
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const totals = prepared(
    db,
    `select run_id as runId, count(*) as count, sum(status in ('failed', 'aborted')) as failed, sum(status = 'running') as running,
       coalesce(sum(bytes), 0) as bytes, sum(suspect is not null) as suspect
     from items where run_id in (select value from json_each(?)) group by run_id`,
  ).all(ids) as { runId: number; count: number; failed: number; running: number; bytes: number; suspect: number }[];
  const byRun = new Map(totals.map((t) => [t.runId, t]));
  // A run counts as checked `ok` when its newest check of each item passed.
  const checked = prepared(
    db,
    `select i.run_id as runId, sum(c.status = 'failed') as failed from checks c join items i on i.id = c.item_id
     where i.run_id in (select value from json_each(?)) and c.kind in ('verify', 'restore-test')
       and c.id = (select max(c2.id) from checks c2 where c2.item_id = c.item_id and c2.kind = c.kind and c2.status in ('ok', 'failed'))
     group by i.run_id`,
  ).all(ids) as { runId: number; failed: number }[];
  const checkByRun = new Map(checked.map((c) => [c.runId, c.failed > 0 ? 'failed' : 'ok']));
  const copied = prepared(
    db,
    `select i.run_id as runId, c.storage, count(*) as count from copies c join items i on i.id = c.item_id
     where i.run_id in (select value from json_each(?)) group by i.run_id, c.storage order by c.storage`,
  ).all(ids) as { runId: number; storage: string; count: number }[];
  const copiesByRun = new Map<number, Record<string, number>>();
  for (const c of copied) copiesByRun.set(c.runId, { ...copiesByRun.get(c.runId), [c.storage]: c.count });
  return rows.map((r) => ({
    ...r,
    items: byRun.get(r.id)?.count ?? 0,
    failedItems: byRun.get(r.id)?.failed ?? 0,
    runningItems: byRun.get(r.id)?.running ?? 0,
    suspectItems: byRun.get(r.id)?.suspect ?? 0,
    bytes: byRun.get(r.id)?.bytes ?? 0,
    checked: checkByRun.get(r.id) ?? null,
    copies: Object.values(copiesByRun.get(r.id) ?? {}).reduce((a, b) => a + b, 0),
    copiesByStorage: copiesByRun.get(r.id) ?? {},
  }));
}

const itemColumns = `id, run_id as runId, service, target, file, bytes, sha256, compression, encryption, recipients, local, started_at as startedAt,
  finished_at as finishedAt, status, error, tool_version as toolVersion, server_version as serverVersion, facts, log, suspect,
  accepted_at as acceptedAt, prune_id as pruneId, started_ms as startedMs`;

/** A run and its items; `ref` is a run id or `latest`. */
export function getRun(db: CatalogClient, ref: string): { run: RunRow; items: ItemRow[] } | undefined {
  if (ref !== 'latest' && !/^\d+$/.test(ref)) return undefined;
  const run = (
    ref === 'latest' ? prepared(db, `select ${runColumns} from runs order by id desc limit 1`).get() : prepared(db, `select ${runColumns} from runs where id = ?`).get(Number(ref))
  ) as RunRow | undefined;
  if (!run) return undefined;
  const found = prepared(db, `select ${itemColumns} from items where run_id = ? order by id`).all(run.id) as (Omit<ItemRow, 'local'> & { local: number })[];
  return { run, items: found.map((i) => ({ ...i, local: Boolean(i.local) })) };
}
