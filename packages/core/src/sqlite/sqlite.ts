/**
 * SQLite connections (the catalog, its health check, the lock), opened the quick way: the bundle
 * carries better-sqlite3's JavaScript, and its compiled addon is handed over by path. Left to
 * itself, better-sqlite3 asks the `bindings` package, which tries a dozen folders for the addon
 * on every start (docs/benchmarks.md, "Where the time goes").
 */
import { createRequire } from 'node:module';
import Sqlite from 'better-sqlite3';

let addon: string | null | undefined;

/** The addon's path, or null where it is not in the usual place (then better-sqlite3 looks for it itself). */
function addonPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return null;
  }
}

export function openSqlite(path: string, options: Sqlite.Options = {}): Sqlite.Database {
  addon ??= addonPath();
  return new Sqlite(path, addon ? { ...options, nativeBinding: addon } : options);
}
