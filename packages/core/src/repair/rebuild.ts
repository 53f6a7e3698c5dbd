/**
 * `batt catalog rebuild`: a new catalog from the manifests (`batt-run-<id>.json`) beside the
 * backups, for when catalog.db was lost or damaged. Runs keep their ids (artifact names carry
 * them); an item comes back only if its file is there with the manifest's size (and SHA-256,
 * unless `quick`), with its own start and finish; the run's failed items come back with their
 * errors, and the run with the status they gave it. What cannot come back is reported, never
 * dropped quietly: left-out files and runs, manifests of an older batt (no item times, no
 * failures), and run ids no manifest names (a run that wrote no file leaves none). The new
 * catalog is built beside the old one and swapped in; the old one is kept as
 * `catalog.db.bak-<time>`. Verify/restore history lives only in the catalog: it is lost.
 */
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { checkpointAndClose, closeCatalog, openCatalog } from '../catalog/db.js';
import { rebuildWriter } from '../catalog/files.js';
import { hashFile } from '../pipeline/hashing-file-sink.js';
import { manifestPattern, parseSumLine } from '../manifest/manifest.js';
import { insideRoots, walkFiles } from '../destination/folders.js';
import { staticRoot } from '../destination/expand.js';
import { humanBytes } from '../text/names.js';
import { shortened } from '../text/printable.js';
import type { ManifestFailure, ManifestItem, ManifestRun } from '../manifest/manifest.js';
import type { RunStatus } from '../catalog/statuses.js';

export interface RebuildReport {
  runs: number;
  items: number;
  bundles: number;
  /** Failed (or interrupted) items taken back in, with their errors. */
  failedItems: number;
  /** Manifest entries and runs left out, and why. */
  skipped: { file: string; why: string }[];
  /** What came back less exactly than it was recorded, and why (a manifest of an older batt). */
  notes: { file: string; note: string }[];
  /** Ranges of run ids, between the lowest and highest taken in, that no manifest names. */
  withoutManifest: [number, number][];
  /** Where the previous catalog went, if there was one. */
  previous?: string;
}

interface Found {
  run: ManifestRun;
  modified: string;
  /** Its manifests (one per folder the run wrote into). */
  manifests: string[];
  items: (ManifestItem & { name: string; path: string })[];
  /** Every manifest of a run lists all its failures: one entry each. */
  failed: Map<string, ManifestFailure>;
  /** Written by a batt that recorded neither item times nor failures. */
  older: boolean;
}

/** The status the run gave itself, from what its manifests record: cut short if an item was, partial if one failed. */
export function rebuiltStatus(failed: readonly ManifestFailure[]): RunStatus {
  if (failed.some((f) => f.status === 'aborted')) return 'aborted';
  return failed.length ? 'partial' : 'ok';
}

/** Ids from `ids`' lowest to highest that are not among them, as ranges. */
export function idGaps(ids: Iterable<number>): [number, number][] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const gaps: [number, number][] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] > sorted[i - 1] + 1) gaps.push([sorted[i - 1] + 1, sorted[i] - 1]);
  return gaps;
}

/** The most a manifest may be: one of a run with thousands of backups is well under it. */
const manifestMax = 16 * 1024 * 1024;

interface Manifest {
  run: ManifestRun;
  items: (ManifestItem & { name: string })[];
  failed?: ManifestFailure[];
}

const isText = (v: unknown): v is string => typeof v === 'string';
const textOrNone = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/**
 * One manifest, read and checked: anyone who can write into a backup folder can put a file
 * there, so it must be batt's in every field before it goes into the catalog, and name only
 * files inside its own folder (never `../../etc/shadow`, which prune would later remove).
 * Throws saying what is wrong; `scan` reports that and leaves the manifest out.
 */
export function readManifest(path: string): Manifest {
  const size = statSync(path).size;
  if (size > manifestMax) throw new Error(`${humanBytes(size)}, more than the 16 MiB a manifest may be`);
  let m;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any> | null;
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  const run = m?.run;
  if (
    m?.batt?.manifestVersion !== 1 ||
    !Array.isArray(m.items) ||
    !run ||
    !Number.isSafeInteger(run.id) ||
    run.id < 1 ||
    ![run.startedAt, run.host, run.user, run.destination].every(isText)
  ) {
    throw new Error('not a batt manifest (version 1)');
  }
  for (const i of m.items) {
    const fields =
      i &&
      isText(i.name) &&
      isText(i.service) &&
      isText(i.target) &&
      Number.isSafeInteger(i.bytes) &&
      i.bytes >= 0 &&
      isText(i.sha256) &&
      /^[0-9a-f]{64}$/.test(i.sha256) &&
      [i.compression, i.toolVersion, i.serverVersion, i.startedAt, i.finishedAt].every(textOrNone);
    if (!fields) throw new Error(`not a batt manifest: an item is not of batt's form: ${shortened(String(JSON.stringify(i)))}`);
    if (isAbsolute(i.name) || i.name.split('/').some((part: string) => part === '' || part === '.' || part === '..')) {
      throw new Error(`not a batt manifest: ${shortened(JSON.stringify(i.name))} is not a file name inside the manifest's folder`);
    }
  }
  const failures =
    m.failed === undefined ||
    (Array.isArray(m.failed) &&
      m.failed.every(
        (f: Record<string, unknown> | null) =>
          f && isText(f.service) && isText(f.target) && (f.status === 'failed' || f.status === 'aborted') && isText(f.startedAt) && textOrNone(f.finishedAt) && textOrNone(f.error),
      ));
  if (!failures) throw new Error("not a batt manifest: its failed items are not of batt's form");
  return m as Manifest;
}

/**
 * Every manifest under `folders`, merged by run (a run writes one per folder it used). A run is
 * its id, start time and host together: an older catalog's run 7 and this one's stay apart, and
 * manifests of other hosts (a shared disk) are left out unless `host` is undefined.
 */
function scan(
  folders: readonly string[],
  host: string | undefined,
  skipped: RebuildReport['skipped'],
  notes: RebuildReport['notes'],
): { runs: Map<string, Found>; bundles: Map<number, string> } {
  const runs = new Map<string, Found>();
  const bundles = new Map<number, string>();
  const read = (path: string, name: string): void => {
    const bundle = /^batt-run-(\d+)\.tar$/.exec(name);
    if (bundle) bundles.set(Number(bundle[1]), path);
    if (!manifestPattern.test(name)) return;
    const dir = dirname(path);
    try {
      const m = readManifest(path);
      if (host !== undefined && m.run.host !== host) {
        skipped.push({ file: path, why: `run ${m.run.id} was made on host ${m.run.host}, not ${host} (--any-host takes it in)` });
        return;
      }
      const key = `${m.run.id}\0${m.run.startedAt}\0${m.run.host}`;
      const found: Found = runs.get(key) ?? { run: m.run, modified: statSync(path).mtime.toISOString(), manifests: [], items: [], failed: new Map(), older: false };
      found.manifests.push(path);
      // readManifest refused names with ../ or an absolute path; a link on the way out of the
      // folder is caught here, so a planted manifest cannot make prune delete elsewhere.
      for (const i of m.items) {
        const inside = insideRoots(join(dir, i.name), [dir]);
        if (inside) found.items.push({ ...i, path: join(dir, i.name) });
        else skipped.push({ file: path, why: `run ${m.run.id} names ${JSON.stringify(i.name)}, which is not inside the manifest's folder ${dir}: not taken in` });
      }
      // The run's destination says where batt may tidy up to: it must hold the manifest.
      if (typeof m.run.destination !== 'string' || !insideRoots(path, [staticRoot(m.run.destination)])) {
        notes.push({
          file: path,
          note: `run ${m.run.id}: its manifest names the destination ${JSON.stringify(m.run.destination)}, which does not hold it (moved backups, or a changed manifest): ${dir} is recorded instead`,
        });
        found.run = { ...found.run, destination: dir };
      }
      if (!Array.isArray(m.failed) || m.items.some((i) => typeof i.startedAt !== 'string')) found.older = true;
      for (const f of Array.isArray(m.failed) ? m.failed : []) found.failed.set(`${f.service}\0${f.target}\0${f.startedAt}`, f);
      runs.set(key, found);
    } catch (error) {
      skipped.push({ file: path, why: `unreadable manifest: ${(error as Error).message}` });
    }
  };
  for (const f of folders) walkFiles(f, read, true);
  return { runs, bundles };
}

export async function rebuildCatalog(
  catalogPath: string,
  folders: readonly string[],
  options: { quick: boolean; host?: string; onRun?: (id: number) => void },
): Promise<RebuildReport> {
  const report: RebuildReport = { runs: 0, items: 0, failedItems: 0, bundles: 0, skipped: [], notes: [], withoutManifest: [] };
  const { runs, bundles } = scan(folders, options.host, report.skipped, report.notes);
  const temp = `${catalogPath}.rebuild-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  const db = await openCatalog(temp);
  try {
    const { insertRun, insertItem, insertFailure, transaction } = rebuildWriter(db);
    const seen = new Set<string>();
    // Oldest first; a run whose id an older run already took gets a new id after all of them.
    const ordered = [...runs.values()].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt) || a.run.id - b.run.id);
    const taken = new Set<number>();
    const first = ordered.filter((f) => !taken.has(f.run.id) && taken.add(f.run.id));
    const renumbered = ordered.filter((f) => !first.includes(f));
    report.withoutManifest = idGaps(taken);
    for (const found of [...first, ...renumbered]) {
      const id = first.includes(found) ? found.run.id : null;
      options.onRun?.(found.run.id);
      const good: Found['items'] = [];
      for (const item of found.items) {
        if (seen.has(item.path)) continue;
        seen.add(item.path);
        const stat = lstatSync(item.path, { throwIfNoEntry: false });
        if (!stat?.isFile()) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: ${stat ? 'not a regular file (a link, a folder): batt never writes one' : 'the file is gone'}` });
          continue;
        }
        const size = stat.size;
        if (size !== item.bytes) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: ${size} bytes on disk, ${item.bytes} in the manifest` });
          continue;
        }
        if (!options.quick && (await hashFile(item.path)).sha256 !== item.sha256) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: SHA-256 differs from the manifest` });
          continue;
        }
        good.push(item);
      }
      const failed = [...found.failed.values()];
      const status = rebuiltStatus(failed);
      if (good.length === 0) {
        // Its files are reported above; a run without one is not taken in, nor are its failures.
        if (failed.length)
          report.skipped.push({
            file: found.manifests[0],
            why: `run ${found.run.id} (${status}) left out: none of its backup files is intact, so its ${failed.length} failed item(s) are not taken in either`,
          });
        continue;
      }
      if (found.older) {
        report.notes.push({
          file: found.manifests[0],
          note: `run ${found.run.id}: its manifest, by an older batt, records no item times (its items get the run's start and end) and no failed items (the run comes back as ${status})`,
        });
      }
      // A bundle is only known by its run id: it goes with the run that kept its id.
      const bundle = id === null ? undefined : bundles.get(id);
      const bundleSum = bundle && existsSync(`${bundle}.sha256`) ? parseSumLine(readFileSync(`${bundle}.sha256`, 'utf8').split('\n')[0])?.sha256 : undefined;
      // The run ended with its last item; a manifest's time is only a stand-in (a prune rewrites it).
      const ends = [...found.items, ...failed]
        .map((i) => i.finishedAt)
        .filter((t): t is string => typeof t === 'string')
        .sort();
      const finishedAt = found.older || ends.length === 0 ? found.modified : ends[ends.length - 1];
      const error = failed.length
        ? failed
            .map((f) => `${f.service} ${f.target}: ${f.error}`)
            .join('; ')
            .slice(0, 4000)
        : null;
      transaction(() => {
        const r = found.run;
        const runId = insertRun(
          id,
          r.startedAt,
          finishedAt,
          status,
          r.host,
          r.user,
          r.destination,
          [...new Set([...good, ...failed].map((i) => i.service))].join(','),
          error,
          bundleSum ? bundle : null,
          bundleSum ? statSync(bundle!).size : null,
          bundleSum ?? null,
        );
        for (const i of good) {
          insertItem(
            runId,
            i.service,
            i.target,
            i.path,
            i.bytes,
            i.sha256,
            i.compression,
            i.startedAt ?? r.startedAt,
            i.startedAt === undefined ? finishedAt : (i.finishedAt ?? null),
            i.toolVersion ?? null,
            i.serverVersion ?? null,
            i.facts === undefined ? null : JSON.stringify(i.facts),
          );
        }
        for (const f of failed) insertFailure(runId, f.service, f.target, f.startedAt, f.finishedAt, f.status, f.error);
      })();
      report.runs++;
      report.items += good.length;
      report.failedItems += failed.length;
      if (bundleSum) report.bundles++;
    }
  } catch (error) {
    closeCatalog(db);
    for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
    throw error;
  }
  checkpointAndClose(db);
  if (existsSync(catalogPath)) {
    // Never over an earlier backup of the catalog (two rebuilds within one second).
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    report.previous = `${catalogPath}.bak-${stamp}`;
    for (let n = 2; existsSync(report.previous); n++) report.previous = `${catalogPath}.bak-${stamp}-${n}`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(catalogPath + suffix)) renameSync(catalogPath + suffix, report.previous + suffix);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(temp + suffix, { force: true });
  renameSync(temp, catalogPath);
  return report;
}
