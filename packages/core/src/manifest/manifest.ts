/**
 * Beside its artifacts every run leaves `batt-run-<id>.json` (what was backed up, from where,
 * with which tool, when each item ran, each file's SHA-256, and the run's items that failed) and
 * a `SHA256SUMS` that `sha256sum -c` accepts, so the backups can be trusted, and the catalog
 * rebuilt, without batt. SHA256SUMS covers every finished artifact in the folder and the
 * manifests themselves: a second run into the same folder adds its lines.
 *
 * Longer than 200 lines because writing and forgetting (prune) must agree on every line of both
 * files; they are kept in one place so they cannot drift apart.
 */
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { BattError, fromSystemError } from '../errors/errors.js';
import { fsyncDir } from '../storage/atomic-file.js';
import { localStorage } from '../storage/local.js';
import { readText } from '../storage/storage.js';

export interface ManifestItem {
  service: string;
  target: string;
  file: string;
  /** False when the file was never written here (`keep_local: false`): it is in the run's first storage. */
  local?: false;
  bytes: number;
  sha256: string;
  compression: string | null;
  /** `age` or `gpg` when the file is encrypted, with the public keys it was encrypted to (never an identity). */
  encryption?: 'age' | 'gpg' | null;
  recipients?: readonly string[] | null;
  toolVersion?: string | null;
  serverVersion?: string | null;
  facts?: unknown;
  /** When the item started and finished (as the catalog has them); absent in manifests of an older batt. */
  startedAt?: string;
  finishedAt?: string | null;
}

/**
 * An item of the run that left no file (failed, or cut short by an interrupt), with its error.
 * Every manifest of a run lists all of them: a failure belongs to the run, not to a folder, and
 * a folder holding only failures gets no manifest.
 */
export interface ManifestFailure {
  service: string;
  target: string;
  status: 'failed' | 'aborted';
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
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

/**
 * Replaces a small text file (manifest, SHA256SUMS, a .sha256) through the storage: atomic, 0600,
 * under a random temporary name never followed as a link, nothing left behind on failure.
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await localStorage.put(path, text);
}

/**
 * A manifest of another run under this run's name (another home, or a catalog that started its
 * ids again, writing into the same folder at the same moment) is never replaced.
 */
async function refuseOthers(path: string, run: ManifestRun): Promise<string | undefined> {
  const text = await readText(localStorage, path);
  if (text === undefined) return undefined;
  let other: { run?: Partial<ManifestRun> } | undefined;
  try {
    other = JSON.parse(text) as { run?: Partial<ManifestRun> };
  } catch {
    // not a manifest: refused below all the same
  }
  if (other?.run?.startedAt === run.startedAt && other.run.host === run.host) return text;
  throw new BattError(
    'IO',
    `${path} already holds the manifest of another run${other?.run?.startedAt ? ` (started ${other.run.startedAt} on ${other.run.host})` : ''}: batt does not replace it`,
    {
      hint: 'two homes (or catalogs) write into this folder with the same run ids: give each home its own destination',
    },
  );
}

const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Writes the manifest and updates SHA256SUMS in every folder the run wrote into: the artifacts'
 * lines and, last, the manifest's own, so `sha256sum -c` proves the manifest too.
 */
export async function writeManifests(
  run: ManifestRun,
  items: readonly ManifestItem[],
  folderOf: (item: ManifestItem) => string,
  failed: readonly ManifestFailure[] = [],
  /** True for a file the catalog has in a storage only (`keep_local: false`): its line stays though no file is here. */
  elsewhere: (path: string) => boolean = () => false,
): Promise<string[]> {
  const byFolder = new Map<string, ManifestItem[]>();
  for (const item of items) {
    const folder = folderOf(item);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), item]);
  }
  const written: string[] = [];
  for (const [folder, folderItems] of byFolder) {
    const entries = folderItems.map((i) => ({ ...i, name: relative(folder, i.file) }));
    const manifest = { batt: { manifestVersion: 1, version: run.battVersion }, run, items: entries, failed };
    const manifestPath = join(folder, manifestName(run.id));
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    // A file already as it should be is left alone: the end of a run without failures rewrites
    // nothing, sparing two atomic writes (and their fsyncs) per folder.
    if ((await refuseOthers(manifestPath, run)) !== text) await writeAtomic(manifestPath, text);

    const sumsPath = join(folder, 'SHA256SUMS');
    const ours = new Set([...entries.map((e) => e.name), manifestName(run.id)]);
    const kept: string[] = [];
    const sums = await readText(localStorage, sumsPath);
    for (const line of sums?.split('\n') ?? []) {
      const name = nameOfLine(line);
      if (name !== undefined && !ours.has(name) && (elsewhere(join(folder, name)) || (await localStorage.stat(join(folder, name))))) kept.push(line);
    }
    const lines = [...kept, ...entries.map((e) => sumLine(e.sha256, e.name)), sumLine(sha256Of(text), manifestName(run.id))];
    const next = `${lines.join('\n')}\n`;
    if (next !== sums) await writeAtomic(sumsPath, next); // each write flushes the folder too
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
 * entries leave the manifests of `runIds`; a manifest left with no entry is deleted. The
 * manifests' own lines in SHA256SUMS follow: a rewritten manifest's line gets its new SHA-256, a
 * deleted one's goes. Safe to repeat (an interrupted prune runs it again).
 */
export async function forgetArtifacts(folder: string, names: ReadonlySet<string>, runIds: Iterable<number>): Promise<void> {
  try {
    await forget(folder, names, runIds);
  } catch (error) {
    throw fromSystemError(error, `cannot update the SHA256SUMS or manifests in ${folder}`);
  }
}

async function forget(folder: string, names: ReadonlySet<string>, runIds: Iterable<number>): Promise<void> {
  // What each manifest becomes is worked out first, SHA256SUMS is written with their new lines,
  // then the manifests: a prune that dies between the two works out the same text next time.
  // A line moves to the new text only from the manifest as it is (or already to the new text): a
  // manifest changed behind batt's back keeps failing the check, as does one this prune leaves.
  const changes: { path: string; text?: string }[] = []; // no text: delete it
  const manifests = new Map<string, { from: string; to: string } | undefined>(); // by name; undefined once gone
  for (const runId of new Set(runIds)) {
    const name = manifestName(runId);
    const path = join(folder, name);
    const current = await readText(localStorage, path);
    if (current === undefined) {
      manifests.set(name, undefined);
      continue;
    }
    let manifest: { items?: { name?: string }[] };
    try {
      manifest = JSON.parse(current) as typeof manifest;
    } catch {
      continue; // a damaged manifest stays as it is, with its line: rebuild reports it, and check once its run is gone
    }
    const items = manifest.items ?? [];
    const kept = items.filter((i) => !names.has(i.name ?? ''));
    if (kept.length === items.length) continue;
    const text = kept.length ? `${JSON.stringify({ ...manifest, items: kept }, null, 2)}\n` : undefined;
    changes.push({ path, text });
    manifests.set(name, text === undefined ? undefined : { from: sha256Of(current), to: sha256Of(text) });
  }
  const sumsPath = join(folder, 'SHA256SUMS');
  const sums = await readText(localStorage, sumsPath);
  if (sums !== undefined) {
    const lines = sums.split('\n').filter((line) => line !== '');
    const kept = lines.flatMap((line) => {
      const parsed = parseSumLine(line);
      if (!parsed || (!names.has(parsed.name) && !manifests.has(parsed.name))) return [line];
      const change = manifests.get(parsed.name);
      if (!change) return [];
      return [change.from, change.to].includes(parsed.sha256) ? [sumLine(change.to, parsed.name)] : [line];
    });
    if (kept.join('\n') !== lines.join('\n')) {
      if (kept.length) await writeAtomic(sumsPath, `${kept.join('\n')}\n`);
      else await localStorage.delete(sumsPath);
    }
  }
  for (const { path, text } of changes) {
    if (text === undefined) await localStorage.delete(path);
    else await writeAtomic(path, text);
  }
  await fsyncDir(folder).catch(() => undefined);
}
