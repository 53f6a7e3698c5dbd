/**
 * Reads and writes of the catalog, in the terms of a run: open a run, record items as they
 * start and finish, close the run, and list or show runs for `batt runs` / `batt show`.
 *
 * Longer than 200 lines because a run's life and its listing read the same columns; keeping them
 * together keeps `batt runs` in step with what a run records (other tables have their own files).
 */
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { CatalogDb } from './db.js';
import type { ManifestFailure } from '../manifest/manifest.js';
import { checks, copies, items, runs, type ItemRow, type ItemStatus, type RunRow, type RunStatus } from './schema.js';

export const now = (): string => new Date().toISOString();

/** Records a new run; its id is above every id the catalog has and above `afterId` (ids taken on disk). */
export function createRun(db: CatalogDb, values: Omit<typeof runs.$inferInsert, 'id' | 'status'> & { afterId?: number }): number {
  const { afterId = 0, ...rest } = values;
  const highest = Number(db.$client.prepare('select coalesce(max(id), 0) from runs').pluck().get());
  const row = db
    .insert(runs)
    .values({ ...rest, ...(afterId > highest ? { id: afterId + 1 } : {}), status: 'running' })
    .returning({ id: runs.id })
    .get();
  return row.id;
}

export function finishRun(db: CatalogDb, id: number, status: RunStatus, error?: string): void {
  db.update(runs)
    .set({ status, finishedAt: now(), error: error ?? null })
    .where(eq(runs.id, id))
    .run();
}

/** Marks runs left `running` by a batt that died as `aborted`; call while holding the lock. */
export function markAbortedRuns(db: CatalogDb): number {
  const stale = db
    .select({ id: runs.id })
    .from(runs)
    .where(eq(runs.status, 'running'))
    .all()
    .map((r) => r.id);
  if (stale.length === 0) return 0;
  db.transaction((tx) => {
    tx.update(runs).set({ status: 'aborted', finishedAt: now(), error: 'batt stopped before the run finished' }).where(inArray(runs.id, stale)).run();
    tx.update(items)
      .set({ status: 'aborted', finishedAt: now(), error: 'batt stopped before the item finished' })
      .where(and(inArray(items.runId, stale), eq(items.status, 'running')))
      .run();
  });
  return stale.length;
}

export function startItem(db: CatalogDb, runId: number, service: string, target: string, startedAt = now()): number {
  return db.insert(items).values({ runId, service, target, startedAt, status: 'running' }).returning({ id: items.id }).get().id;
}

export type ItemResult = Partial<
  Pick<
    ItemRow,
    'file' | 'local' | 'bytes' | 'sha256' | 'compression' | 'encryption' | 'recipients' | 'error' | 'toolVersion' | 'serverVersion' | 'facts' | 'log' | 'target' | 'finishedAt'
  >
>;

export function finishItem(db: CatalogDb, id: number, status: ItemStatus, result: ItemResult): void {
  db.update(items)
    .set({ ...result, status, finishedAt: result.finishedAt ?? now() })
    .where(eq(items.id, id))
    .run();
}

/** Records a run's `--bundle` tar. */
export function setRunBundle(db: CatalogDb, id: number, bundle: { path: string; bytes: number; sha256: string }): void {
  db.update(runs).set({ bundleFile: bundle.path, bundleBytes: bundle.bytes, bundleSha256: bundle.sha256 }).where(eq(runs.id, id)).run();
}

/** Adds a finished item in one statement (drop-in scripts report files after the fact). */
export function addItem(db: CatalogDb, values: Omit<typeof items.$inferInsert, 'id'>): number {
  return db.insert(items).values(values).returning({ id: items.id }).get().id;
}

/**
 * What a run's manifests record from the catalog: when each item with a file started and
 * finished (by file), and the items that failed or were cut short, with their errors.
 */
export function manifestRecords(db: CatalogDb, runId: number): { times: Map<string, { startedAt: string; finishedAt: string | null }>; failed: ManifestFailure[] } {
  const rows = db.$client
    .prepare("select service, target, file, status, started_at, finished_at, error from items where run_id = ? and status <> 'running' order by id")
    .raw()
    .all(runId) as [string, string, string | null, ItemStatus, string, string | null, string | null][];
  const times = new Map<string, { startedAt: string; finishedAt: string | null }>();
  const failed: ManifestFailure[] = [];
  for (const [service, target, file, status, startedAt, finishedAt, error] of rows) {
    if (status === 'ok' && file) times.set(file, { startedAt, finishedAt });
    else if (status === 'failed' || status === 'aborted') failed.push({ service, target, status, startedAt, finishedAt, error });
  }
  return { times, failed };
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

export function listRuns(db: CatalogDb, filter: RunFilter): RunSummary[] {
  const conditions = [];
  if (filter.status) conditions.push(eq(runs.status, filter.status));
  if (filter.before !== undefined) conditions.push(lt(runs.id, filter.before));
  if (filter.since) conditions.push(gte(runs.startedAt, filter.since));
  if (filter.until) conditions.push(lt(runs.startedAt, filter.until));
  if (filter.service) conditions.push(sql`exists (select 1 from ${items} where ${items.runId} = ${runs.id} and ${items.service} = ${filter.service})`);
  const rows = db
    .select()
    .from(runs)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(runs.id))
    .limit(filter.last ?? 20)
    .all();
  if (rows.length === 0) return [];
  const totals = db
    .select({
      runId: items.runId,
      count: sql<number>`count(*)`,
      failed: sql<number>`sum(case when ${items.status} in ('failed', 'aborted') then 1 else 0 end)`,
      running: sql<number>`sum(case when ${items.status} = 'running' then 1 else 0 end)`,
      bytes: sql<number>`coalesce(sum(${items.bytes}), 0)`,
      suspect: sql<number>`sum(case when ${items.suspect} is not null then 1 else 0 end)`,
    })
    .from(items)
    .where(
      inArray(
        items.runId,
        rows.map((r) => r.id),
      ),
    )
    .groupBy(items.runId)
    .all();
  const byRun = new Map(totals.map((t) => [t.runId, t]));
  // A run counts as checked `ok` when its newest check of each item passed.
  const checked = db
    .select({ runId: items.runId, failed: sql<number>`sum(case when ${checks.status} = 'failed' then 1 else 0 end)`, count: sql<number>`count(*)` })
    .from(checks)
    .innerJoin(items, eq(items.id, checks.itemId))
    .where(
      and(
        inArray(
          items.runId,
          rows.map((r) => r.id),
        ),
        inArray(checks.kind, ['verify', 'restore-test']),
        sql`${checks.id} = (select max(c2.id) from ${checks} c2 where c2.item_id = ${checks.itemId} and c2.kind = ${checks.kind} and c2.status in ('ok', 'failed'))`,
      ),
    )
    .groupBy(items.runId)
    .all();
  const checkByRun = new Map(checked.map((c) => [c.runId, c.failed > 0 ? 'failed' : 'ok']));
  const copied = db
    .select({ runId: items.runId, storage: copies.storage, count: sql<number>`count(*)` })
    .from(copies)
    .innerJoin(items, eq(items.id, copies.itemId))
    .where(
      inArray(
        items.runId,
        rows.map((r) => r.id),
      ),
    )
    .groupBy(items.runId, copies.storage)
    .orderBy(copies.storage)
    .all();
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

/** A run and its items; `ref` is a run id or `latest`. */
export function getRun(db: CatalogDb, ref: string): { run: RunRow; items: ItemRow[] } | undefined {
  const run =
    ref === 'latest'
      ? db.select().from(runs).orderBy(desc(runs.id)).limit(1).get()
      : /^\d+$/.test(ref)
        ? db
            .select()
            .from(runs)
            .where(eq(runs.id, Number(ref)))
            .get()
        : undefined;
  if (!run) return undefined;
  return { run, items: db.select().from(items).where(eq(items.runId, run.id)).orderBy(items.id).all() };
}

/** A test of whether the catalog has a file in a storage only (`keep_local: false`), not pruned. */
export function remoteOnly(db: CatalogDb): (file: string) => boolean {
  const found = db.$client.prepare("select 1 from items where file = ? and local = 0 and status = 'ok' and prune_id is null limit 1").pluck();
  return (file) => Boolean(found.get(file));
}
