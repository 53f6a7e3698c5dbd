/**
 * One run at a time per home: a lock file holding the owner's pid, created with O_EXCL.
 * A lock whose pid is gone (batt was killed) is stale and taken over.
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
          hint: `wait for it to finish; if no batt is running, remove ${path}`,
        });
      }
      rmSync(path, { force: true });
    }
  }
  throw new BattError('LOCKED', `could not take the lock ${path}`, { hint: 'try again' });
}
