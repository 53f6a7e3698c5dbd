/**
 * `batt catalog check`: the catalog against the disk. Every good item's file is present with
 * the recorded size and SHA-256 (sizes only with `quick`), every bundle too; a prune left half
 * done and files nobody catalogued (orphans) are reported. Every confirmed copy in another
 * storage is checked the same way: there, with its size, and (unless `quick`) its SHA-256, read
 * back from the storage. Changes nothing.
 */
import { existsSync } from 'node:fs';
import type { CatalogDb } from '../catalog/db.js';
import { copiesOf, type PlacedCopy } from '../catalog/copies.js';
import { catalogedFiles, type CatalogedFile } from '../catalog/files.js';
import type { BattConfig } from '../config/load.js';
import { openStorages, storagesOf, type Copier } from '../copies/storages.js';
import { describeError } from '../errors/errors.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { findOrphans } from '../destination/folders.js';

export interface CatalogProblem {
  kind: 'missing' | 'size' | 'sha256' | 'orphan' | 'pruning' | 'copy-missing' | 'copy-size' | 'copy-sha256' | 'copy-error';
  /** The local file (for a copy's problem, the file it is a copy of). */
  file: string;
  runId?: number;
  itemId?: number;
  /** A copy's problem: the storage and the copy's key there. */
  storage?: string;
  key?: string;
  detail: string;
}

export interface CatalogReport {
  files: number;
  bytes: number;
  /** Copies in other storages that were checked (present, or not). */
  copies: number;
  problems: CatalogProblem[];
}

export async function checkCatalog(
  db: CatalogDb,
  roots: readonly string[],
  options: { quick: boolean; signal?: AbortSignal; onFile?: (file: string) => void; config?: BattConfig },
): Promise<CatalogReport> {
  const entries = catalogedFiles(db);
  const report: CatalogReport = { files: 0, bytes: 0, copies: 0, problems: [] };
  for (const [itemId, runId, file, bytes, sha256, pruneId, local] of entries) {
    if (options.signal?.aborted) break;
    const at = { file, runId, ...(itemId === null ? {} : { itemId }) };
    if (pruneId !== null) {
      report.problems.push({ ...at, kind: 'pruning', detail: `prune ${pruneId} was interrupted while removing it: \`batt prune\` finishes the job` });
      continue;
    }
    options.onFile?.(file);
    const size = (await localStorage.stat(file))?.bytes;
    // Sent straight to a storage (keep_local: false): no file here is as it should be (`batt verify` reads the copy).
    if (size === undefined && !local) continue;
    if (size === undefined) {
      report.problems.push({ ...at, kind: 'missing', detail: 'the file is gone' });
      continue;
    }
    report.files++;
    report.bytes += size;
    if (bytes !== null && size !== bytes) {
      report.problems.push({ ...at, kind: 'size', detail: `${size} bytes on disk, ${bytes} in the catalog` });
      continue;
    }
    if (!options.quick && sha256) {
      const actual = await hashObject(localStorage, file);
      if (actual.sha256 !== sha256) report.problems.push({ ...at, kind: 'sha256', detail: `SHA-256 on disk ${actual.sha256}, catalog ${sha256}` });
    }
  }
  await checkCopies(db, entries, options, report);
  for (const file of findOrphans(
    db,
    roots.filter((r) => existsSync(r)),
  )) {
    report.problems.push({
      kind: 'orphan',
      file,
      detail: 'not in the catalog (left by a killed run, copied in, or the catalog lost its row: `batt catalog rebuild` takes manifested files back in)',
    });
  }
  return report;
}

/** Every copy of a good item that no prune holds: present in its storage, its size, and unless `quick` its SHA-256. */
async function checkCopies(
  db: CatalogDb,
  entries: readonly CatalogedFile[],
  options: { quick: boolean; signal?: AbortSignal; config?: BattConfig },
  report: CatalogReport,
): Promise<void> {
  const items = entries.filter(([itemId, , , , , pruneId]) => itemId !== null && pruneId === null);
  const all = copiesOf(
    db,
    items.map(([itemId]) => itemId!),
  );
  // The storages as each run opened them (an rclone remote may name its host and date), once per service and run.
  const opened = new Map<string, Promise<Copier[]>>();
  for (const [itemId, runId, file, , sha256] of items) {
    for (const copy of all.get(itemId!) ?? []) {
      if (options.signal?.aborted) return;
      report.copies++;
      const at = { file, runId, itemId: itemId!, storage: copy.storage, key: copy.key };
      const problem = await checkCopy(copy, copy.service, sha256 ?? copy.sha256, options, opened);
      if (problem) report.problems.push({ ...at, ...problem });
    }
  }
}

async function checkCopy(
  copy: PlacedCopy,
  service: string,
  sha256: string,
  options: { quick: boolean; config?: BattConfig },
  opened: Map<string, Promise<Copier[]>>,
): Promise<Pick<CatalogProblem, 'kind' | 'detail'> | undefined> {
  const where = `${copy.storage}: ${copy.key}`;
  try {
    const scope = `${service}\0${copy.host}\0${copy.runStartedAt}`;
    if (!opened.has(scope))
      opened.set(scope, openStorages(storagesOf(options.config, service), { destination: '/', service, host: copy.host, clock: new Date(copy.runStartedAt) }));
    const copier = (await opened.get(scope)!).find((c) => c.name === copy.storage);
    if (!copier) return { kind: 'copy-error', detail: `${where} cannot be checked: the configuration no longer names the storage "${copy.storage}" for ${service}` };
    const stat = await copier.storage.stat(copy.key);
    if (!stat) return { kind: 'copy-missing', detail: `${where} is gone from the storage` };
    if (stat.bytes !== copy.bytes) return { kind: 'copy-size', detail: `${where} has ${stat.bytes} bytes, the catalog ${copy.bytes}` };
    if (options.quick) return undefined;
    const actual = await hashObject(copier.storage, copy.key);
    if (actual.sha256 !== sha256) return { kind: 'copy-sha256', detail: `${where} reads back with SHA-256 ${actual.sha256}, catalog ${sha256}` };
    return undefined;
  } catch (error) {
    return { kind: 'copy-error', detail: `${where} cannot be checked: ${describeError(error)}` };
  }
}
