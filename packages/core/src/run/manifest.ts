/**
 * Beside its artifacts every run leaves `batt-run-<id>.json` (what was backed up, from where,
 * with which tool, and each file's SHA-256) and a `SHA256SUMS` that `sha256sum -c` accepts, so
 * the backups can be trusted, and the catalog rebuilt, without batt. SHA256SUMS covers every
 * finished artifact in the folder: a second run into the same folder adds its lines.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fromSystemError } from '../errors/errors.js';
import { fsyncDir } from '../pipeline/atomic-file.js';

export interface ManifestItem {
  service: string;
  target: string;
  file: string;
  bytes: number;
  sha256: string;
  compression: string | null;
  toolVersion?: string | null;
  serverVersion?: string | null;
  facts?: unknown;
}

export interface ManifestRun {
  id: number;
  startedAt: string;
  host: string;
  user: string;
  destination: string;
  battVersion: string;
}

/** One `sha256sum` line; names with a backslash or newline use GNU's escaped form. */
export function sumLine(sha256: string, name: string): string {
  if (!/[\\\n\r]/.test(name)) return `${sha256}  ${name}`;
  return `\\${sha256}  ${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}`;
}

/** The SHA-256 and name of one `sha256sum` line (GNU's escaped form too); undefined if it is none. */
export function parseSumLine(line: string): { sha256: string; name: string } | undefined {
  const m = /^\\?([0-9a-f]{64}) [ *](.*)$/.exec(line);
  if (!m) return undefined;
  const name = line.startsWith('\\') ? m[2].replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : m[2];
  return { sha256: m[1], name };
}

const nameOfLine = (line: string): string | undefined => parseSumLine(line)?.name;

/** Replaces a small text file (manifest, SHA256SUMS, a .sha256): written 0600 beside it, flushed, renamed over it. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.batt-tmp-${process.pid}`;
  await writeFile(temp, text, { mode: 0o600, flush: true });
  await rename(temp, path);
}

/** Writes the manifest and updates SHA256SUMS in every folder the run wrote into. */
export async function writeManifests(run: ManifestRun, items: readonly ManifestItem[], folderOf: (item: ManifestItem) => string): Promise<string[]> {
  const byFolder = new Map<string, ManifestItem[]>();
  for (const item of items) {
    const folder = folderOf(item);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), item]);
  }
  const written: string[] = [];
  for (const [folder, folderItems] of byFolder) {
    const entries = folderItems.map((i) => ({ ...i, name: relative(folder, i.file) }));
    const manifest = { batt: { manifestVersion: 1, version: run.battVersion }, run, items: entries };
    const manifestPath = join(folder, `batt-run-${run.id}.json`);
    await writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

    const sumsPath = join(folder, 'SHA256SUMS');
    const ours = new Set(entries.map((e) => e.name));
    const kept = existsSync(sumsPath)
      ? readFileSync(sumsPath, 'utf8').split('\n').filter((line) => {
          const name = nameOfLine(line);
          return name !== undefined && !ours.has(name) && existsSync(join(folder, name));
        })
      : [];
    const lines = [...kept, ...entries.map((e) => sumLine(e.sha256, e.name))];
    await writeAtomic(sumsPath, `${lines.join('\n')}\n`);
    await fsyncDir(folder);
    written.push(manifestPath);
  }
  return written;
}

/** The manifests in a folder: `batt-run-<id>.json` files, by run id. */
export function manifestName(runId: number): string {
  return `batt-run-${runId}.json`;
}

export const manifestPattern = /^batt-run-(\d+)\.json$/;

/**
 * Forgets artifacts that are being removed from `folder`: their lines leave SHA256SUMS and their
 * entries leave the manifests of `runIds`; a manifest left with no entry is deleted. Safe to
 * repeat (an interrupted prune runs it again).
 */
export async function forgetArtifacts(folder: string, names: ReadonlySet<string>, runIds: Iterable<number>): Promise<void> {
  try {
    await forget(folder, names, runIds);
  } catch (error) {
    throw fromSystemError(error, `cannot update the SHA256SUMS or manifests in ${folder}`);
  }
}

async function forget(folder: string, names: ReadonlySet<string>, runIds: Iterable<number>): Promise<void> {
  const sumsPath = join(folder, 'SHA256SUMS');
  if (existsSync(sumsPath)) {
    const lines = readFileSync(sumsPath, 'utf8').split('\n').filter((line) => line !== '');
    const kept = lines.filter((line) => !names.has(nameOfLine(line) ?? ''));
    if (kept.length !== lines.length) {
      if (kept.length) await writeAtomic(sumsPath, `${kept.join('\n')}\n`);
      else await unlink(sumsPath);
    }
  }
  for (const runId of new Set(runIds)) {
    const path = join(folder, manifestName(runId));
    if (!existsSync(path)) continue;
    let manifest: { items?: { name?: string }[] };
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8')) as typeof manifest;
    } catch {
      continue; // a damaged manifest stays as it is: rebuild reports it, and check once its run is gone
    }
    const items = manifest.items ?? [];
    const kept = items.filter((i) => !names.has(i.name ?? ''));
    if (kept.length === items.length) continue;
    if (kept.length) await writeAtomic(path, `${JSON.stringify({ ...manifest, items: kept }, null, 2)}\n`);
    else await unlink(path);
  }
  await fsyncDir(folder).catch(() => undefined);
}
