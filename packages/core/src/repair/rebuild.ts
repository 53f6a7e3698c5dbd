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
import { existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { checkpointAndClose, closeCatalog, openCatalog } from '../catalog/db.js';
import { rebuildWriter } from '../catalog/files.js';
import { parseSumLine, type ManifestFailure } from '../manifest/manifest.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { readText } from '../storage/storage.js';
import { scanManifests, type Found, type FoundItem } from './manifests.js';
import type { ConfirmedCopy } from '../catalog/copies.js';
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

/** What an item's backup is, once proven: whether its local file is here, and its copy in the storage read. */
export type Proven = { why: string } | { here: boolean; copy?: ConfirmedCopy };

/** Where a rebuild reads manifests and proves the files they name: backup folders, or a storage (rebuild-from.ts). */
export interface RebuildSource {
  scan(host: string | undefined, skipped: RebuildReport['skipped'], notes: RebuildReport['notes']): Promise<{ runs: Map<string, Found>; bundles: Map<number, string> }>;
  /** Whether the item's file is there, with the manifest's size (and SHA-256, unless `quick`); `why` when it is not. */
  prove(item: FoundItem, runId: number, quick: boolean): Promise<Proven>;
}

/** The backup folders as a rebuild's source: every file must be here, intact. */
export function foldersSource(folders: readonly string[]): RebuildSource {
  return {
    scan: (host, skipped, notes) => scanManifests(folders, host, skipped, notes),
    async prove(item, runId, quick) {
      const stat = lstatSync(item.path, { throwIfNoEntry: false });
      if (!stat && item.local === false) return { why: `run ${runId}: sent straight to a storage (keep_local: false); \`batt catalog rebuild --from <storage>\` takes it in` };
      if (!stat?.isFile()) return { why: `run ${runId}: ${stat ? 'not a regular file (a link, a folder): batt never writes one' : 'the file is gone'}` };
      if (stat.size !== item.bytes) return { why: `run ${runId}: ${stat.size} bytes on disk, ${item.bytes} in the manifest` };
      if (!quick && (await hashObject(localStorage, item.path)).sha256 !== item.sha256) return { why: `run ${runId}: SHA-256 differs from the manifest` };
      return { here: true };
    },
  };
}

export async function rebuildCatalog(catalogPath: string, source: RebuildSource, options: { quick: boolean; host?: string; onRun?: (id: number) => void }): Promise<RebuildReport> {
  const report: RebuildReport = { runs: 0, items: 0, failedItems: 0, bundles: 0, skipped: [], notes: [], withoutManifest: [] };
  const { runs, bundles } = await source.scan(options.host, report.skipped, report.notes);
  const temp = `${catalogPath}.rebuild-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  const db = await openCatalog(temp);
  try {
    const { insertRun, insertItem, insertCopy, insertFailure, transaction } = rebuildWriter(db);
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
      const good: (FoundItem & { here: boolean; copy?: ConfirmedCopy })[] = [];
      for (const item of found.items) {
        if (seen.has(item.path)) continue;
        seen.add(item.path);
        const proven = await source.prove(item, found.run.id, options.quick);
        if ('why' in proven) report.skipped.push({ file: item.path, why: proven.why });
        else good.push({ ...item, ...proven });
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
      const bundleText = bundle && (await readText(localStorage, `${bundle}.sha256`));
      const bundleSum = bundleText ? parseSumLine(bundleText.split('\n')[0])?.sha256 : undefined;
      const bundleBytes = bundleSum ? ((await localStorage.stat(bundle!))?.bytes ?? null) : null;
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
          bundleBytes,
          bundleSum ?? null,
        );
        for (const i of good) {
          const itemId = insertItem(
            runId,
            i.service,
            i.target,
            i.path,
            i.bytes,
            i.sha256,
            i.compression,
            i.encryption ?? null,
            i.recipients ? JSON.stringify(i.recipients) : null,
            i.startedAt ?? r.startedAt,
            i.startedAt === undefined ? finishedAt : (i.finishedAt ?? null),
            i.toolVersion ?? null,
            i.serverVersion ?? null,
            i.facts === undefined ? null : JSON.stringify(i.facts),
            i.here ? 1 : 0,
          );
          if (i.copy) insertCopy(itemId, i.copy.storage, i.copy.key, i.copy.bytes, i.copy.sha256, i.copy.copiedAt);
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
