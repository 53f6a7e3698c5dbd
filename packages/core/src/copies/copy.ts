/**
 * A copy of a finished local file in another storage: put, then read back (size, then every byte
 * hashed) before anyone may count on it. A copy that does not read back the same is removed again
 * and fails; the local file is never touched. With `keep_local: false` the copies to the second
 * and further storages are read from the first storage's object instead (a `source`).
 */
import type { Readable } from 'node:stream';
import type { ConfirmedCopy } from '../catalog/copies.js';
import { BattError, describeError } from '../errors/errors.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import type { Copier } from './storages.js';

/** Where a copy's bytes are read from: by default the local file; with `keep_local: false`, the first storage's object. */
export interface CopySource {
  /** For messages: where the bytes stay when this copy fails. */
  where: string;
  /** A fresh stream of the bytes from the start (each attempt of a put reads its own). */
  open(): Readable;
}

export async function copyFile(copier: Copier, file: string, expected: { bytes: number; sha256: string }, source?: CopySource): Promise<ConfirmedCopy> {
  const key = copier.keyFor(file);
  const { storage } = copier;
  const from = source ?? { where: `the local copy stays at ${file}`, open: () => localStorage.get(file) };
  try {
    await storage.put(key, from.open(), { reopen: () => from.open() });
    const stat = await storage.stat(key);
    if (stat?.bytes !== expected.bytes) throw new Error(`it reads back ${stat ? `${stat.bytes} bytes` : 'as missing'}, not ${expected.bytes}`);
    const read = await hashObject(storage, key);
    if (read.sha256 !== expected.sha256) throw new Error(`its SHA-256 reads back as ${read.sha256.slice(0, 16)}…, not ${expected.sha256.slice(0, 16)}…`);
  } catch (error) {
    await storage.delete(key).catch(() => false);
    throw new BattError('IO', `the copy to ${copier.name} (${key}) failed: ${describeError(error)}`, {
      hint: `${from.where}; check the storage (\`batt doctor\`, docs/storage.md) and run batt again`,
      cause: error,
    });
  }
  return { storage: copier.name, key, bytes: expected.bytes, sha256: expected.sha256, copiedAt: new Date().toISOString() };
}

/**
 * Copies `file` to every copier. A required copy that fails throws (after the others were
 * tried); an optional one is only reported in `warnings`.
 */
export async function copyEverywhere(
  copiers: readonly Copier[],
  file: string,
  expected: { bytes: number; sha256: string },
  source?: CopySource,
): Promise<{ copies: ConfirmedCopy[]; warnings: string[] }> {
  const copies: ConfirmedCopy[] = [];
  const warnings: string[] = [];
  let failed: unknown;
  for (const copier of copiers) {
    try {
      copies.push(await copyFile(copier, file, expected, source));
    } catch (error) {
      if (copier.required) failed ??= error;
      else warnings.push(describeError(error));
    }
  }
  if (failed) {
    // No copy may claim a place in the catalog for an item that failed: remove what was made.
    for (const copy of copies)
      await copiers
        .find((c) => c.name === copy.storage)
        ?.storage.delete(copy.key)
        .catch(() => false);
    throw failed;
  }
  return { copies, warnings };
}
