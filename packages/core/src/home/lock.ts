/**
 * One run at a time per home: a kernel lock on the file `batt.lock`, taken without waiting and
 * released by the kernel when batt exits, however it ends (a crash, SIGKILL, the OOM killer): the
 * next run never finds a stale lock, and a pid reused by another process means nothing. The lock
 * is SQLite's (a POSIX record lock, through better-sqlite3, which the catalog already loads): an
 * exclusive transaction held open on an empty database file, never written. A second run asks
 * /proc/locks which process holds it, to name it. The file stays: removing a lock file that
 * another run may have opened would let two runs each lock a different file.
 *
 * A run that finds the lock held gives up at once (exit 75), or waits up to `lock_wait` seconds
 * for it (waitForLock). A `batt.lock` of an earlier batt (a pid in a text file) is honoured while
 * that pid lives, then replaced.
 */
import { closeSync, constants, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { BattError, fromSystemError } from '../errors/errors.js';
import { openSqlite } from '../sqlite/sqlite.js';

export interface Lock {
  release(): void;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid that holds a POSIX lock on `path`, from /proc/locks; undefined when none is found. */
function lockHolder(path: string): number | undefined {
  try {
    const { ino, dev } = statSync(path);
    const device = `${(Math.floor(dev / 256) & 0xfff).toString(16).padStart(2, '0')}:${((dev & 0xff) | ((dev >> 12) & 0xfff00)).toString(16).padStart(2, '0')}:${ino}`;
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      const f = line.split(/\s+/);
      if (f[1] === 'POSIX' && f[5] === device && Number(f[4]) > 0) return Number(f[4]);
    }
  } catch {
    // No /proc, or the file went: the message goes without the pid.
  }
  return undefined;
}

const locked = (homeRoot: string, pid: number | undefined): BattError =>
  new BattError('LOCKED', `another batt run${pid ? ` (pid ${pid})` : ''} is using ${homeRoot}`, {
    hint: 'try again when it has finished',
  });

/** The connections holding a lock: a connection the collector took would close, and so release, it. */
const heldLocks = new Set<Database>();

export function acquireLock(homeRoot: string): Lock {
  const path = join(homeRoot, 'batt.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600));
    } catch (error) {
      throw fromSystemError(error, `cannot open the lock ${path}`);
    }
    let db: Database | undefined;
    try {
      db = openSqlite(path, { timeout: 0 });
      db.exec('BEGIN EXCLUSIVE');
      const held = db;
      heldLocks.add(held);
      return {
        release() {
          heldLocks.delete(held);
          if (held.open) held.close();
        },
      };
    } catch (error) {
      db?.close();
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY') throw locked(homeRoot, lockHolder(path));
      if (code !== 'SQLITE_NOTADB') throw fromSystemError(error, `cannot take the lock ${path}`);
      // An older batt's lock file: its pid in text.
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) throw locked(homeRoot, pid);
      rmSync(path, { force: true });
    }
  }
  throw new BattError('LOCKED', `could not take the lock ${path}`, { hint: 'try again' });
}

/**
 * acquireLock, waiting up to `waitSeconds` (lock_wait) for a run that holds the lock to finish:
 * 0 gives up at once. `onWait` hears once that this run waits, and for whom.
 */
export async function waitForLock(homeRoot: string, waitSeconds: number, onWait?: (message: string) => void): Promise<Lock> {
  const until = Date.now() + waitSeconds * 1000;
  for (let waiting = false; ; waiting = true) {
    try {
      return acquireLock(homeRoot);
    } catch (error) {
      if (!(error instanceof BattError) || error.code !== 'LOCKED' || Date.now() >= until) {
        if (!(error instanceof BattError) || error.code !== 'LOCKED') throw error;
        if (!waiting) throw new BattError('LOCKED', error.message, { hint: `${error.hint}; or set lock_wait: SECONDS to wait for it (docs/scheduling.md)` });
        throw new BattError('LOCKED', `${error.message}, still after waiting ${waitSeconds}s (lock_wait)`, {
          hint: `raise lock_wait, or find out why the other run takes so long; ${error.hint}`,
        });
      }
      if (!waiting) onWait?.(`${error.message}: waiting up to ${waitSeconds}s for it (lock_wait)`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, until - Date.now())));
    }
  }
}
