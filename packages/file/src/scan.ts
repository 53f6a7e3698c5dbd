/**
 * The safety scan of a tar of the file service, before anything is extracted: every header is
 * checked (node-tar parses them) and the whole restore is refused if any entry is absolute,
 * contains `..`, lies under a symlink, is a device, or is a link pointing out of the target.
 * With `hash`, each file's SHA-256 is taken on the way, for the comparison after extraction.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadEntry } from 'tar';
import { BattError } from '@batt/core/kit';

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

export const fileTypes: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);
const allowed = new Set([...fileTypes, 'Directory', 'SymbolicLink', 'Link', 'FIFO', 'SparseFile']);

/** The path without `./` and trailing slashes; undefined (a problem) when it escapes. */
export function memberProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'is absolute';
  if (path.split('/').includes('..')) return 'contains ".."';
  return undefined;
}

/** Checks every header of the archive (and hashes file contents when asked). */
export async function scanArchive(stream: Readable, hash: boolean): Promise<Scan> {
  // node-tar (110 KB) loads only when a restore needs it, not with every backup's start-up.
  const { Parser } = await import('tar');
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
