/**
 * Opens the catalog: SQLite through better-sqlite3 and drizzle, WAL mode, file mode 0600, and
 * the committed migrations applied from this package's drizzle/ folder (found relative to the
 * module, never the working directory). A file in its place that is not batt's is refused
 * untouched; batt's catalog carries its mark in the SQLite header (application_id "batt"). The
 * connection and those checks are client.ts's; this adds drizzle.
 */
import { BattError } from '../errors/errors.js';
import { openCatalogClient, prepared } from './client.js';
import { openSqlite } from '../sqlite/sqlite.js';
import * as schema from './schema.js';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';

export { applicationId, migrationsFolder, openCatalogClient } from './client.js';

export type CatalogDb = BetterSQLite3Database<typeof schema> & { $client: import('better-sqlite3').Database };

export async function openCatalog(path: string): Promise<CatalogDb> {
  const client = await openCatalogClient(path);
  try {
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    return drizzle({ client, schema }) as CatalogDb;
  } catch (error) {
    client.close();
    throw new BattError('CATALOG', `cannot open the catalog ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Closes the catalog's SQLite connection. Returns nothing. */
/**
 * The catalog opened read-only (`batt serve`): never migrated, never written, so it holds no lock
 * a backup would wait for. `openCatalog` once before brings it up to date.
 */
export async function openCatalogReadOnly(path: string): Promise<CatalogDb> {
  try {
    const client = openSqlite(path, { readonly: true, fileMustExist: true });
    client.pragma('busy_timeout = 5000');
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    return drizzle({ client, schema }) as CatalogDb;
  } catch (error) {
    throw new BattError('CATALOG', `cannot open the catalog ${path} to read it: ${(error as Error).message}`, { hint: 'run `batt` once to make it', cause: error });
  }
}

/**
 * Runs a drizzle query through its statement prepared once (client.ts `prepared`), not once per
 * call as drizzle does: a run of 200 items spent a twentieth of batt's time in SQLite's prepare.
 * `get` for one row.
 */
export function runPrepared(db: CatalogDb, query: { toSQL(): { sql: string; params: unknown[] } }, how: 'run' | 'get' = 'run'): unknown {
  const { sql, params } = query.toSQL();
  const statement = prepared(db, sql);
  return how === 'get' ? statement.get(...params) : statement.run(...params);
}

export function closeCatalog(db: CatalogDb): void {
  db.$client.close();
}

/**
 * Runs `fn` as one SQLite transaction (BEGIN IMMEDIATE with `immediate`, taking the write lock
 * at once; else a deferred BEGIN), committed when `fn` returns and rolled back when it throws.
 * Returns what `fn` returns. `fn` must be synchronous.
 */
export function inTransaction<T>(db: CatalogDb, fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
  const transaction = db.$client.transaction(fn);
  return mode === 'immediate' ? transaction.immediate() : transaction();
}

/** Writes the catalog's WAL into its file and closes it: a finished catalog is one file. */
export function checkpointAndClose(db: CatalogDb): void {
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
}
