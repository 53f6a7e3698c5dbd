/**
 * What `batt doctor` asks the catalog, read-only: SQLite's own `PRAGMA quick_check`, and how big
 * the last good backups were (to compare with the free space where the next ones go). Opened
 * read-only and never migrated: the doctor changes nothing.
 */
import { existsSync } from 'node:fs';
import { BattError } from '../errors/errors.js';
import { applicationId } from './db.js';
import { openSqlite } from '../sqlite/sqlite.js';

/** What to do about a catalog that is not sound. */
const rebuild = (path: string): string => `move it away (mv ${path} ${path}.damaged) and run \`batt catalog rebuild DIR\` to make it again from the backups' manifests`;

/**
 * Per service, the sizes of the newest good backup of each of its targets, added up; undefined
 * when there is no catalog yet. Throws CATALOG when the file is not a sound batt catalog.
 */
export function catalogHealth(path: string): Map<string, number> | undefined {
  if (!existsSync(path)) return undefined;
  let client: import('better-sqlite3').Database | undefined;
  try {
    client = openSqlite(path, { readonly: true, fileMustExist: true });
    const id = client.pragma('application_id', { simple: true }) as number;
    if (id !== applicationId && id !== 0) throw new BattError('CATALOG', `${path} is not a batt catalog (application id ${id})`, { hint: 'move it away, or use another --home' });
    const problems = (client.prepare('PRAGMA quick_check').pluck().all() as string[]).filter((row) => row !== 'ok');
    if (problems.length)
      throw new BattError('CATALOG', `${path}: PRAGMA quick_check found ${problems.length} problem(s): ${problems.slice(0, 3).join('; ')}`, { hint: rebuild(path) });
    const rows = client
      .prepare(
        `SELECT service, SUM(bytes) FROM items i WHERE status = 'ok' AND bytes IS NOT NULL
           AND id = (SELECT MAX(id) FROM items j WHERE j.service = i.service AND j.target = i.target AND j.status = 'ok' AND j.bytes IS NOT NULL)
         GROUP BY service`,
      )
      .raw()
      .all() as [string, number][];
    return new Map(rows);
  } catch (error) {
    if (error instanceof BattError) throw error;
    throw new BattError('CATALOG', `cannot read the catalog ${path}: ${(error as Error).message}`, {
      hint: rebuild(path),
      cause: error,
    });
  } finally {
    client?.close();
  }
}
