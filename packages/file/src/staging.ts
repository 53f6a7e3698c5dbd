/**
 * The extracted tree and its way into place: the comparison with the scanned archive (file count
 * and each file's SHA-256, setuid/setgid bits dropped on the way), the staging folder inside the
 * target, the conflicts a restore without --force refuses, and the move into place.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { BattError, hashFile, type Check } from '@batt/core/kit';
import { fileTypes, type Scan } from './scan.js';

/**
 * Compares what was extracted in `dir` with the archive's entries, dropping setuid/setgid bits
 * on the way. Returns the checks.
 */
export async function compareExtracted(dir: string, scan: Scan): Promise<Check[]> {
  let files = 0;
  let dropped = 0;
  const mismatched: string[] = [];
  const missing: string[] = [];
  for (const [path, entry] of scan.entries) {
    const full = join(dir, path);
    let stat;
    try {
      stat = lstatSync(full);
    } catch {
      missing.push(path);
      continue;
    }
    if (!stat.isSymbolicLink() && stat.mode & 0o6000) {
      chmodSync(full, stat.mode & 0o1777);
      dropped++;
    }
    if (fileTypes.has(entry.type) && stat.isFile()) {
      files++;
      if (entry.sha256 && (await hashFile(full)).sha256 !== entry.sha256) mismatched.push(path);
    }
  }
  return [
    {
      name: 'entries',
      ok: missing.length === 0,
      detail: missing.length ? `${missing.length} archive entries were not extracted: ${missing.slice(0, 5).join(', ')}` : `${scan.entries.size} entries extracted`,
    },
    {
      name: 'file hashes',
      ok: mismatched.length === 0,
      detail: mismatched.length ? `${mismatched.length} files differ from the archive: ${mismatched.slice(0, 5).join(', ')}` : `${files} files match the archive's SHA-256`,
    },
    ...(dropped ? [{ name: 'setuid', ok: true, detail: `setuid/setgid dropped from ${dropped} entries` }] : []),
  ];
}

/** Moves the staged tree into `to`; existing files are replaced only with `force`. */
export function moveInto(staging: string, to: string, force: boolean): void {
  for (const name of readdirSync(staging)) {
    const from = join(staging, name);
    const dest = join(to, name);
    const existing = existsSync(dest) || isLink(dest) ? lstatSync(dest) : undefined;
    if (existing?.isDirectory() && lstatSync(from).isDirectory()) {
      moveInto(from, dest, force);
      continue;
    }
    if (existing) {
      if (!force) throw new BattError('USAGE', `${dest} already exists`, { hint: 'restore into an empty folder with --to, or pass --force to overwrite' });
      rmSync(dest, { recursive: true, force: true });
    }
    renameSync(from, dest);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The archive's entries that something in `to` already stands at: a file, link or other thing
 * where the archive has one (a folder where the archive has a folder is no conflict: the restore
 * goes into it). Only these stop a restore without --force.
 */
export function conflictsIn(scan: Scan, to: string): string[] {
  const clash: string[] = [];
  for (const [path, entry] of scan.entries) {
    let existing;
    try {
      existing = lstatSync(join(to, path));
    } catch {
      continue;
    }
    if (!(entry.type === 'Directory' && existing.isDirectory())) clash.push(join(to, path));
  }
  return clash;
}

/** True when `dir` exists and holds anything. */
export function nonEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** A staging folder inside `to` (same filesystem, so moving in is a rename). */
export function stagingIn(to: string): { dir: string; created: boolean } {
  const created = !existsSync(to);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  return { dir: mkdtempSync(join(to, '.batt-restore-')), created };
}

export function removeStaging(staging: { dir: string; created: boolean }, to: string, ok: boolean): void {
  rmSync(staging.dir, { recursive: true, force: true });
  if (!ok && staging.created) {
    try {
      rmdirSync(to);
    } catch {
      // not empty: leave it
    }
  }
}
