/**
 * A storage whose puts note, while they have one, what they would leave behind if the process
 * were killed (an open S3 multipart upload, an rclone temporary object): a small file under the
 * home's `pending/`, named with the pid, removed once the put leaves nothing. The next backup run
 * removes what the notes of dead batts name (copies/pending.ts).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDir } from '../home/home.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';

/** The storage a note was made through, as copierOf opens it again. */
export interface PendingScope {
  storage: string;
  service: string;
  host: string;
  runStartedAt: string;
}

/** The home's folder of notes. */
export const pendingDir = (home: string): string => join(home, 'pending');

export const notePattern = /^(\d+)-[0-9a-f]+\.json$/;

/** `storage` whose puts keep their notes in `dir`. */
export function journaled(storage: Storage, dir: string, scope: PendingScope): Storage {
  const note = (): NonNullable<PutOptions['onPending']> => {
    const path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
    return (token) => {
      if (token === undefined) return rmSync(path, { force: true });
      makePrivateDir(dir);
      writeFileSync(`${path}.new`, JSON.stringify({ ...scope, token }), { mode: 0o600 });
      renameSync(`${path}.new`, path);
    };
  };
  return {
    name: storage.name,
    put: (key, data, options): Promise<StoredObject | undefined> => storage.put(key, data, { ...options, onPending: note() }),
    get: (key) => storage.get(key),
    stat: (key) => storage.stat(key),
    list: (prefix) => storage.list(prefix),
    delete: (key) => storage.delete(key),
    ...(storage.check ? { check: () => storage.check!() } : {}),
    ...(storage.abandon ? { abandon: (token: string) => storage.abandon!(token) } : {}),
  };
}
