/**
 * One run at a time per home: a lock file holding the owner's pid, created with O_EXCL.
 * A lock whose pid is gone (batt was killed) is stale and taken over. A run that finds the lock
 * held gives up at once (exit 75), or waits up to `lock_wait` seconds for it (waitForLock).
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BattError, fromSystemError } from '../errors/errors.js';

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

export function acquireLock(homeRoot: string): Lock {
  const path = join(homeRoot, 'batt.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(error, `cannot create the lock ${path}`);
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new BattError('LOCKED', `another batt run (pid ${pid}) is using ${homeRoot}`, {
          hint: `try again when it has finished; if no batt is running, remove ${path}`,
        });
      }
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
