/**
 * Reads and writes of the catalog, in the terms of a run: open a run, record items as they
 * start and finish, close the run, and list or show runs for `batt runs` / `batt show`.
 *
 * Longer than 200 lines because a run's life and its listing read the same columns; keeping them
 * together keeps `batt runs` in step with what a run records (other tables have their own files).
 */
import { and, eq, inArray } from 'drizzle-orm';
import { prepared } from './client.js';
import { runPrepared, type CatalogDb } from './db.js';
import type { ManifestFailure } from '../manifest/manifest.js';
import { items, runs, type ItemRow, type ItemStatus, type RunStatus } from './schema.js';

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
  return (runPrepared(db, db.insert(items).values({ runId, service, target, startedAt, status: 'running' }).returning({ id: items.id }), 'get') as { id: number }).id;
}

export type ItemResult = Partial<
  Pick<
    ItemRow,
    'file' | 'local' | 'bytes' | 'sha256' | 'compression' | 'encryption' | 'recipients' | 'error' | 'toolVersion' | 'serverVersion' | 'facts' | 'log' | 'target' | 'finishedAt'
  >
>;

export function finishItem(db: CatalogDb, id: number, status: ItemStatus, result: ItemResult): void {
  runPrepared(
    db,
    db
      .update(items)
      .set({ ...result, status, finishedAt: result.finishedAt ?? now() })
      .where(eq(items.id, id)),
  );
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
 * The items of a run that failed or were cut short, with their errors: what its manifests record
 * beside the files. Only those rows are read (each item rewrites the manifests: reading all the
 * run's items each time grew with the square of their number).
 */
export function runFailures(db: CatalogDb, runId: number): ManifestFailure[] {
  return prepared(
    db,
    "select service, target, status, started_at startedAt, finished_at finishedAt, error from items where run_id = ? and status in ('failed', 'aborted') order by id",
  ).all(runId) as ManifestFailure[];
}

export { getRun, listRuns, type RunFilter, type RunSummary } from './run-list.js';

/** A test of whether the catalog has a file in a storage only (`keep_local: false`), not pruned. */
export function remoteOnly(db: CatalogDb): (file: string) => boolean {
  const found = prepared(db, "select 1 from items where file = ? and local = 0 and status = 'ok' and prune_id is null limit 1").pluck();
  return (file) => Boolean(found.get(file));
}
