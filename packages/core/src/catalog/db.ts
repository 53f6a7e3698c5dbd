/**
 * Opens the catalog: SQLite through better-sqlite3 and drizzle, WAL mode, file mode 0600, and
 * the committed migrations applied from this package's drizzle/ folder (found relative to the
 * module, never the working directory).
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BattError } from '../errors/errors.js';
import * as schema from './schema.js';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';

export type CatalogDb = BetterSQLite3Database<typeof schema> & { $client: import('better-sqlite3').Database };

const here = dirname(fileURLToPath(import.meta.url));
/** The committed migrations: beside the package (dist/catalog → ../../drizzle) or a bundle. */
export const migrationsFolder = [join(here, '..', '..', 'drizzle'), join(here, 'drizzle')].find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) ?? join(here, '..', '..', 'drizzle');

export async function openCatalog(path: string): Promise<CatalogDb> {
  try {
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const [{ default: Database }, { drizzle }, { migrate }] = await Promise.all([
      import('better-sqlite3'),
      import('drizzle-orm/better-sqlite3'),
      import('drizzle-orm/better-sqlite3/migrator'),
    ]);
    const client = new Database(path);
    client.pragma('journal_mode = WAL');
    client.pragma('foreign_keys = ON');
    client.pragma('busy_timeout = 5000');
    const db = drizzle({ client, schema }) as CatalogDb;
    migrate(db, { migrationsFolder });
    return db;
  } catch (error) {
    throw new BattError('CATALOG', `cannot open the catalog ${path}: ${(error as Error).message}`, {
      hint: 'check that the home is writable and the file is a batt catalog',
      cause: error,
    });
  }
}
