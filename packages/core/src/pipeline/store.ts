/**
 * Store stage: the artifact is written into a new file of the local storage that has no name yet,
 * and placed under its final name (never over an existing file) only once every stage succeeded.
 * Copies to other storages start from the placed file.
 */
import { fromSystemError } from '../errors/errors.js';
import { makeTrustedDir } from '../home/home.js';
import { localStorage, type NewFile } from '../storage/local.js';

/** A new file in `dir` (made, and checked trusted, when missing). */
export async function storeStage(dir: string): Promise<NewFile> {
  try {
    makeTrustedDir(dir);
    return await localStorage.create(dir);
  } catch (error) {
    throw fromSystemError(error, `cannot create the backup folder ${dir}`);
  }
}
