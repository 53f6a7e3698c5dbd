/**
 * Restoring a tar of the file service, safely. The archive is read twice: first every header is
 * checked (node-tar parses them) and the whole restore is refused if any entry is absolute,
 * contains `..`, lies under a symlink, is a device, or is a link pointing out of the target;
 * then GNU tar extracts it into a staging folder inside the target, the result is compared
 * with the archive (file count and each file's SHA-256), setuid/setgid bits are dropped, and
 * only then are the files moved into place.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, rmdirSync, chmodSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { BattError, hashFile, spawnTool, toolFailure, type Check } from '@batt/core/kit';

export interface ScannedEntry {
  type: string;
  size: number;
  /** SHA-256 of a regular file's content (when hashing). */
  sha256?: string;
}

export interface Scan {
  entries: Map<string, ScannedEntry>;
  /** Why entries are unsafe; the restore is refused when there are any. */
  problems: string[];
  /** Bytes of the uncompressed archive. */
  bytes: number;
}

const fileTypes = new Set(['File', 'OldFile', 'ContiguousFile']);
const allowed = new Set([...fileTypes, 'Directory', 'SymbolicLink', 'Link', 'FIFO', 'SparseFile']);

/** The path without `./` and trailing slashes; undefined (a problem) when it escapes. */
export function memberProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'is absolute';
  if (path.split('/').includes('..')) return 'contains ".."';
  return undefined;
}

/** Checks every header of the archive (and hashes file contents when asked). */
export async function scanArchive(stream: Readable, hash: boolean): Promise<Scan> {
  const entries = new Map<string, ScannedEntry>();
  const problems: string[] = [];
  const links = new Set<string>();
  let bytes = 0;
  const parser = new Parser({
    strict: true,
    onReadEntry(entry: ReadEntry) {
      const raw = entry.path;
      const path = posix.normalize(raw.replace(/\/+$/, '')).replace(/^\.\//, '');
      const bad = (why: string): void => {
        if (problems.length < 50) problems.push(`${raw} ${why}`);
      };
      const problem = memberProblem(raw);
      if (problem) bad(problem);
      else if (!allowed.has(entry.type)) bad(entry.type === 'CharacterDevice' || entry.type === 'BlockDevice' ? 'is a device' : `is of an unsupported type (${entry.type})`);
      else if (entry.type === 'SymbolicLink') {
        const target = entry.linkpath ?? '';
        const resolved = posix.normalize(posix.join(posix.dirname(path), target));
        if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../')) bad(`is a symlink pointing out of the target (${target})`);
        links.add(path);
      } else if (entry.type === 'Link') {
        const target = entry.linkpath ?? '';
        if (memberProblem(target)) bad(`is a hard link to ${target}, outside the target`);
      }
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) if (links.has(parts.slice(0, i).join('/'))) bad(`lies under the symlink ${parts.slice(0, i).join('/')}`);
      const record: ScannedEntry = { type: entry.type, size: entry.size ?? 0 };
      entries.set(path, record);
      if (hash && fileTypes.has(entry.type)) {
        const h = createHash('sha256');
        entry.on('data', (c: Buffer) => h.update(c));
        entry.on('end', () => {
          record.sha256 = h.digest('hex');
        });
      } else entry.resume();
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.on('warn', (code: string, message: string) => {
      if (code !== 'TAR_ENTRY_INFO') reject(new BattError('INTEGRITY', `the archive is damaged: ${message}`));
    });
  });
  stream.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  await Promise.all([pipeline(stream, parser as unknown as NodeJS.WritableStream), done]);
  return { entries, problems, bytes };
}

/** Refuses an archive with unsafe entries, naming them. */
export function refuseUnsafe(scan: Scan): void {
  if (scan.problems.length === 0) return;
  throw new BattError(
    'INTEGRITY',
    `the archive holds ${scan.problems.length} unsafe entr${scan.problems.length === 1 ? 'y' : 'ies'}, nothing was restored: ${scan.problems.slice(0, 10).join('; ')}${scan.problems.length > 10 ? '; …' : ''}`,
    {
      hint: 'batt only restores archives whose entries stay inside the target folder; extract it by hand with care if you trust it',
    },
  );
}

/** GNU tar extracts the archive into `dir` (owners kept when root, as tar does). */
export async function extract(source: Readable, dir: string, signal: AbortSignal, xattrs: boolean): Promise<void> {
  const args = [
    '--extract',
    '--file=-',
    `--directory=${dir}`,
    '--no-overwrite-dir',
    ...(xattrs ? ['--xattrs', '--acls'] : []),
    ...(process.getuid?.() === 0 ? [] : ['--no-same-owner']),
  ];
  const child = await spawnTool('tar', args, { stdin: source, stdout: 'ignore', signal, debianPackage: 'tar' });
  const result = await child.result;
  if (result.failed) throw toolFailure('tar', result, 'tar');
}

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
