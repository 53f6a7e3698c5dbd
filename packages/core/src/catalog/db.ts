/**
 * Opens the catalog: SQLite through better-sqlite3 and drizzle, WAL mode, file mode 0600, and
 * the committed migrations applied from this package's drizzle/ folder (found relative to the
 * module, never the working directory).
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BattError } from '../errors/errors.js';
import * as schema from './schema.js';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';

export type CatalogDb = BetterSQLite3Database<typeof schema> & { $client: import('better-sqlite3').Database };

const here = dirname(fileURLToPath(import.meta.url));
/** The committed migrations: beside the package (dist/catalog → ../../drizzle) or a bundle. */
export const migrationsFolder = [join(here, '..', '..', 'drizzle'), join(here, 'drizzle')].find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) ?? join(here, '..', '..', 'drizzle');

/** The newest migration's timestamp, from the journal drizzle-kit wrote. */
function newestMigration(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number }[] };
  return Math.max(...journal.entries.map((e) => e.when));
}

/**
 * Whether every committed migration is applied, by drizzle's own rule (the newest applied
 * `created_at` is at least the journal's newest `when`): then the migrator is not even loaded,
 * which keeps `batt runs` quick.
 */
function upToDate(client: import('better-sqlite3').Database): boolean {
  try {
    const applied = client.prepare('select max(created_at) from __drizzle_migrations').pluck().get() as number | null;
    return applied !== null && Number(applied) >= newestMigration();
  } catch {
    return false;
  }
}

export async function openCatalog(path: string): Promise<CatalogDb> {
  try {
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    // better-sqlite3 is CommonJS: require() loads it without the ESM loader's detour.
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
    const client = new Database(path);
    client.pragma('journal_mode = WAL');
    client.pragma('foreign_keys = ON');
    client.pragma('busy_timeout = 5000');
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    const db = drizzle({ client, schema }) as CatalogDb;
    if (!upToDate(client)) {
      const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
      migrate(db, { migrationsFolder });
    }
    return db;
  } catch (error) {
    throw new BattError('CATALOG', `cannot open the catalog ${path}: ${(error as Error).message}`, {
      hint: 'check that the home is writable and the file is a batt catalog',
      cause: error,
    });
  }
}
