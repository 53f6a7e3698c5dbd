/**
 * The catalog's files and how a rebuilt catalog is filled: for `batt catalog check` and
 * `batt catalog rebuild` (repair/).
 */
import type { CatalogDb } from './db.js';

/** A file the catalog vouches for: an ok item's (its id and prune mark) or a run's bundle (no item). */
export type CatalogedFile = [itemId: number | null, runId: number, file: string, bytes: number | null, sha256: string | null, pruneId: number | null, local: number];

/** Every file the catalog names: ok items' files by id, then the runs' bundles. */
export function catalogedFiles(db: CatalogDb): CatalogedFile[] {
  const client = db.$client;
  return [
    ...(client.prepare("select id, run_id, file, bytes, sha256, prune_id, local from items where status = 'ok' and file is not null order by id").raw().all() as CatalogedFile[]),
    ...(client.prepare('select null, id, bundle_file, bundle_bytes, bundle_sha256, null, 1 from runs where bundle_file is not null').raw().all() as CatalogedFile[]),
  ];
}

export interface RebuildWriter {
  /** The new run's id. */
  insertRun(...values: unknown[]): number;
  /** The new item's id. */
  insertItem(...values: unknown[]): number;
  /** A confirmed copy of an item, in another storage: (item id, storage, key, bytes, sha256, copied at). */
  insertCopy(...values: unknown[]): void;
  insertFailure(...values: unknown[]): void;
  /** `fn` as one transaction, to call. */
  transaction(fn: () => void): () => void;
}

/** The inserts a rebuild fills a fresh catalog with, prepared once. */
export function rebuildWriter(db: CatalogDb): RebuildWriter {
  const client = db.$client;
  const run = client.prepare(
    'insert into runs (id, started_at, finished_at, status, host, user, destination, services, pid, error, bundle_file, bundle_bytes, bundle_sha256) values (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)',
  );
  const item = client.prepare(
    "insert into items (run_id, service, target, file, bytes, sha256, compression, encryption, recipients, started_at, finished_at, status, tool_version, server_version, facts, local) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
  );
  const copy = client.prepare('insert into copies (item_id, storage, key, bytes, sha256, copied_at) values (?, ?, ?, ?, ?, ?)');
  const failure = client.prepare('insert into items (run_id, service, target, started_at, finished_at, status, error) values (?, ?, ?, ?, ?, ?, ?)');
  return {
    insertRun: (...values) => Number(run.run(...values).lastInsertRowid),
    insertItem: (...values) => Number(item.run(...values).lastInsertRowid),
    insertCopy: (...values) => void copy.run(...values),
    insertFailure: (...values) => void failure.run(...values),
    transaction: (fn) => client.transaction(fn),
  };
}
