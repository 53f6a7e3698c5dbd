/**
 * The catalog's SQLite connection, without drizzle: made 0600, refused when the file in its place
 * is not batt's, WAL mode, and brought up to date (the migrator, and drizzle with it, load only
 * when a migration is due). `batt runs` reads through this alone; `openCatalog` (db.ts) adds
 * drizzle for the rest.
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, Statement } from 'better-sqlite3';
import { BattError } from '../errors/errors.js';
import { openSqlite } from '../sqlite/sqlite.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The committed migrations: beside the package (dist/catalog → ../../drizzle) or a bundle. */
export const migrationsFolder =
  [join(here, '..', '..', 'drizzle'), join(here, 'drizzle')].find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) ?? join(here, '..', '..', 'drizzle');

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
function upToDate(client: Database): boolean {
  try {
    const applied = client.prepare('select max(created_at) from __drizzle_migrations').pluck().get() as number | null;
    return applied !== null && Number(applied) >= newestMigration();
  } catch {
    return false;
  }
}

/** The catalog's mark in the SQLite header (PRAGMA application_id): "batt". */
export const applicationId = 0x62617474;

/** What the refusals say to do about a file that is in the catalog's place but is no catalog of batt's. */
const moveAway = (path: string): string => `batt leaves it alone: move it away (mv ${path} ${path}.not-batt) or use another --home`;
const damaged = (path: string): string =>
  `move it away (mv ${path} ${path}.damaged) and batt starts a new catalog; if it was batt's, \`batt catalog rebuild DIR\` makes it again from the backups' manifests`;

/**
 * Refuses a file at the catalog's path that is no SQLite database, before anything opens it:
 * not a regular file, empty, or without SQLite's header.
 */
function refuseNotSqlite(path: string): void {
  const stat = statSync(path);
  if (!stat.isFile()) throw new BattError('CATALOG', `${path} is not a batt catalog: not a regular file`, { hint: moveAway(path) });
  if (stat.size === 0) throw new BattError('CATALOG', `${path} is empty (0 bytes): not a batt catalog`, { hint: damaged(path) });
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== 'SQLite format 3\0') throw new BattError('CATALOG', `${path} is not a batt catalog: not a SQLite database`, { hint: damaged(path) });
}

/**
 * Refuses another application's SQLite database, before batt writes to it (it would add its
 * tables): batt's catalog has batt's application_id, a catalog of an older batt (before the
 * mark) has batt's tables, and a database with no table at all is a new one.
 */
function refuseForeign(path: string, client: Database): void {
  const id = client.pragma('application_id', { simple: true }) as number;
  if (id === applicationId) return;
  const tables = client.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all() as string[];
  const older = ['__drizzle_migrations', 'items', 'runs'].every((t) => tables.includes(t));
  if (id === 0 && (tables.length === 0 || older)) return;
  const shown = tables.length ? `tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}` : `application id ${id}`;
  throw new BattError('CATALOG', `${path} is not a batt catalog: a SQLite database of another application (${shown})`, { hint: moveAway(path) });
}

const statements = new WeakMap<Database, Map<string, Statement>>();

/**
 * `sql` prepared once per connection (a CatalogDb, or the bare connection `batt runs` uses):
 * SQLite's prepare of a statement on the items table costs about a millisecond, every time. Each
 * call site sets the statement's mode (raw, pluck) itself, every time.
 */
export function prepared(db: { $client: Database }, sql: string): Statement {
  let cache = statements.get(db.$client);
  if (!cache) statements.set(db.$client, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.$client.prepare(sql)));
  return statement;
}

/** Opens the catalog's connection (see the top of this file); throws CATALOG with the fix. */
export async function openCatalogClient(path: string): Promise<Database> {
  let client: Database | undefined;
  try {
    const existed = existsSync(path);
    if (existed) refuseNotSqlite(path);
    else closeSync(openSync(path, 'a', 0o600));
    client = openSqlite(path);
    if (existed) refuseForeign(path, client);
    chmodSync(path, 0o600);
    client.pragma('journal_mode = WAL');
    client.pragma('foreign_keys = ON');
    client.pragma('busy_timeout = 5000');
    if (!upToDate(client)) {
      const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/better-sqlite3'), import('drizzle-orm/better-sqlite3/migrator')]);
      migrate(drizzle({ client }), { migrationsFolder });
    }
    if (client.pragma('application_id', { simple: true }) !== applicationId) client.pragma(`application_id = ${applicationId}`);
    return client;
  } catch (error) {
    client?.close();
    if (error instanceof BattError) throw error;
    throw new BattError('CATALOG', `cannot open the catalog ${path}: ${(error as Error).message}`, {
      hint: `check that the home is writable; if the catalog is damaged, ${damaged(path)}`,
      cause: error,
    });
  }
}
