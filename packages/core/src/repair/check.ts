/**
 * `batt catalog check`: the catalog against the disk. Every good item's file is present with
 * the recorded size and SHA-256 (sizes only with `quick`), every bundle too; a prune left half
 * done and files nobody catalogued (orphans) are reported. Changes nothing.
 */
import { existsSync } from 'node:fs';
import type { CatalogDb } from '../catalog/db.js';
import { catalogedFiles } from '../catalog/files.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { findOrphans } from '../destination/folders.js';

export interface CatalogProblem {
  kind: 'missing' | 'size' | 'sha256' | 'orphan' | 'pruning';
  file: string;
  runId?: number;
  itemId?: number;
  detail: string;
}

export interface CatalogReport {
  files: number;
  bytes: number;
  problems: CatalogProblem[];
}

export async function checkCatalog(
  db: CatalogDb,
  roots: readonly string[],
  options: { quick: boolean; signal?: AbortSignal; onFile?: (file: string) => void },
): Promise<CatalogReport> {
  const entries = catalogedFiles(db);
  const report: CatalogReport = { files: 0, bytes: 0, problems: [] };
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
