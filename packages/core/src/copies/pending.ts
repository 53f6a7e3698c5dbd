/**
 * What a killed batt leaves in a storage: an S3 multipart upload still open (its parts stored and
 * billed), an rclone temporary object. Each put to a storage notes, while it has one, what it
 * would leave (`onPending`) in a small file under the home's `pending/`, named with the pid; the
 * put removes the note once it leaves nothing. The next backup run, holding the lock, finds the
 * notes of batts that are gone and removes what they name, through the storage as that run
 * opened it. A note whose storage cannot be reached stays for the run after.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { BattConfig } from '../config/load.js';
import { describeError } from '../errors/errors.js';
import { pidAlive } from '../home/lock.js';
import type { Logger } from '../log/logger.js';
import { notePattern, pendingDir, type PendingScope } from '../storage/journaled.js';
import { copierOf } from './storages.js';
import { join } from 'node:path';

/** Removes what the notes in the home's `pending/` of batts no longer running name; returns what was removed. */
export async function clearAbandoned(home: string, config: BattConfig, log: Logger): Promise<string[]> {
  const dir = pendingDir(home);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const cleared: string[] = [];
  for (const name of names) {
    const pid = Number(notePattern.exec(name)?.[1] ?? 0);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    const path = join(dir, name);
    try {
      const note = JSON.parse(readFileSync(path, 'utf8')) as PendingScope & { token: string };
      const copier = await copierOf(config, note.service, note);
      if (!copier?.storage.abandon) {
        log.warn(`a killed batt left an unfinished upload in the storage "${note.storage}" (${note.token}), which the configuration no longer names: remove it there`);
      } else {
        await copier.storage.abandon(note.token);
        cleared.push(`${note.storage}: ${note.token}`);
      }
      rmSync(path, { force: true });
    } catch (error) {
      log.warn(`could not remove what a killed batt left in a storage (${name}; tried again next run): ${describeError(error)}`);
    }
  }
  return cleared;
}
