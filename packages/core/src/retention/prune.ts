/**
 * Prune carries out its plan (prune-plan.ts): the backups it removes go with files and catalog
 * in step. Removal is journalled in the catalog: the
 * items are first marked with the prune's id in one transaction, then their files, SHA256SUMS
 * lines and manifest entries go, then their rows. A prune that dies at any point is finished by
 * the next one (`finishInterruptedPrunes`), so no row outlives its file for long and no file is
 * left that the catalog forgot.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { abortChecks, highestCheckId, runningChecks } from '../catalog/checks.js';
import { inTransaction, type CatalogDb } from '../catalog/db.js';
import { fileHeldByUnmarked, prunedServices, markItemsForPrune, prunedItems } from '../catalog/items.js';
import { insertPrune, openPruneIds, removePrunedRows, setPruneError } from '../catalog/prunes.js';
import { bundlesLeftByPrune } from '../catalog/runs.js';
import { BattError, fromSystemError } from '../errors/errors.js';
import { pidAlive } from '../home/lock.js';
import { forgetArtifacts } from '../manifest/manifest.js';
import { artifactFolderOf, insideRoots, removeEmptyFolders } from '../destination/folders.js';
import { localStorage } from '../storage/local.js';
import type { BattConfig } from '../config/load.js';
import { removeCopies } from '../copies/remove.js';
import { planPrune, type PrunePlan, type PruneRequest } from './prune-plan.js';

export interface PruneResult {
  pruneId?: number;
  removed: number;
  bytes: number;
  /** The folders the removed backups were in (for the orphan report). */
  folders: string[];
  /** Items the plan removed that a restore or verify claimed meanwhile: kept. */
  heldMeanwhile: number;
  /** Files the catalog named outside the backup folders this home knows: not deleted, rows forgotten. */
  refused: string[];
}

/**
 * Marks the plan's removals with a new prune's id, in one write transaction. If a verify or
 * restore recorded anything since the plan (a backup may have failed its verify, or been
 * claimed), the plan is made again inside the transaction first, so what is marked always
 * follows the catalog as it is.
 */
function markRemovals(request: PruneRequest, plan: PrunePlan): { pruneId: number; planned: number; marked: number } {
  const { db } = request;
  return inTransaction(
    db,
    () => {
      const current = highestCheckId(db) === plan.checkMark ? plan : planPrune(request);
      const ids = current.groups.flatMap((g) => {
        const { ids, keep } = g.columns();
        return ids.filter((_, i) => keep[i] === 0);
      });
      const rules = Object.entries(current.rules)
        .map(([service, text]) => `${service}: ${text}`)
        .join('; ');
      const pruneId = insertPrune(db, rules);
      const marked = markItemsForPrune(db, pruneId, ids);
      return { pruneId, planned: plan.groups.reduce((n, g) => n + g.removed, 0), marked };
    },
    'immediate',
  );
}

/** Deletes a file; a file already gone is fine only if its folder is there (an unmounted disk is not "removed"). */
async function removeFile(path: string): Promise<void> {
  let removed: boolean;
  try {
    removed = await localStorage.delete(path);
  } catch (error) {
    throw fromSystemError(error, `cannot remove ${path}`);
  }
  if (!removed && !existsSync(dirname(path))) {
    throw new BattError('IO', `cannot remove ${path}: its folder ${dirname(path)} is missing`, {
      hint: 'is the backup disk mounted? The catalog keeps the backups marked; `batt prune` finishes the job once the folder is back',
    });
  }
}

/** Deletes a file fetched back from a storage, if there is one: its folder need not exist. */
async function removeFetched(path: string): Promise<void> {
  try {
    await localStorage.delete(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw fromSystemError(error, `cannot remove ${path}`);
  }
}

/**
 * Removes what a prune marked: files, their SHA256SUMS lines and manifest entries, the bundles
 * of runs left without a backup, then the rows, then folders left empty (never a root). Safe to
 * repeat. A path that another, unmarked item now holds (a backup written there after this prune
 * died) is not touched: only the marked row goes.
 */
export async function finishPrune(
  db: CatalogDb,
  pruneId: number,
  roots: readonly string[],
  config: BattConfig | undefined,
): Promise<{ removed: number; bytes: number; folders: string[]; refused: string[] }> {
  const rows = prunedItems(db, pruneId);
  const taken = fileHeldByUnmarked(db);
  const folders = new Map<string, { names: Set<string>; runIds: Set<number> }>();
  let bytes = 0;
  // A path outside the backup folders this home knows (a hostile manifest, a changed catalog) is
  // never deleted: its row goes, the file stays, and the caller says so.
  const refused: string[] = [];
  for (const [, runId, file, size, local] of rows) {
    if (!file || taken(file)) continue;
    if (!insideRoots(file, roots)) {
      refused.push(file);
      continue;
    }
    bytes += size ?? 0;
    // Sent straight to a storage (keep_local: false): no file was written here, though a restore may have fetched one.
    if (local) await removeFile(file);
    else await removeFetched(file);
    const { folder, name } = artifactFolderOf(file, runId);
    let entry = folders.get(folder);
    if (!entry) folders.set(folder, (entry = { names: new Set(), runIds: new Set() }));
    entry.names.add(name);
    entry.runIds.add(runId);
  }
  for (const [folder, { names, runIds }] of folders) await forgetArtifacts(folder, names, runIds);
  await removeCopies(db, config, prunedServices(db, pruneId));

  // A run left without any backup file loses its bundle; a run left without any item, its row.
  const bundles = bundlesLeftByPrune(db, pruneId);
  for (const [, bundle] of bundles) {
    if (!insideRoots(bundle, roots)) {
      refused.push(bundle);
      continue;
    }
    for (const path of [bundle, `${bundle}.sha256`]) await removeFile(path);
    folders.set(dirname(bundle), folders.get(dirname(bundle)) ?? { names: new Set(), runIds: new Set() });
  }
  removePrunedRows(
    db,
    pruneId,
    bundles.map(([runId]) => runId),
    rows.length,
    bytes,
  );
  for (const folder of folders.keys()) removeEmptyFolders(folder, roots);
  return { removed: rows.length, bytes, folders: [...folders.keys()], refused };
}

/** Applies a plan (made again if the catalog's checks changed since): marks, then removes. */
export async function executePrune(request: PruneRequest, plan: PrunePlan, roots: readonly string[]): Promise<PruneResult> {
  const { db } = request;
  if (!plan.groups.some((g) => g.removed > 0)) return { removed: 0, bytes: 0, folders: [], heldMeanwhile: 0, refused: [] };
  const { pruneId, planned, marked } = markRemovals(request, plan);
  try {
    const done = await finishPrune(db, pruneId, roots, request.config);
    return { pruneId, ...done, heldMeanwhile: Math.max(0, planned - marked) };
  } catch (error) {
    setPruneError(db, pruneId, (error as Error).message);
    throw error;
  }
}

/**
 * Finishes prunes that a dead batt left half done, and closes checks whose batt died. Call
 * while holding the home's lock. `roots` is asked for only when there is a prune to finish
 * (every backup run calls this first). Returns the prunes finished.
 */
export async function finishInterruptedPrunes(db: CatalogDb, roots: () => readonly string[], config: BattConfig): Promise<{ id: number; removed: number; refused: string[] }[]> {
  const stale = runningChecks(db).filter(([, pid]) => !pid || !pidAlive(pid));
  // `aborted`, not `failed`: the backup was not found wanting, its check was cut short.
  abortChecks(
    db,
    stale.map(([id]) => id),
  );
  const open = openPruneIds(db);
  const finished: { id: number; removed: number; refused: string[] }[] = [];
  for (const id of open) {
    const done = await finishPrune(db, id, roots(), config);
    finished.push({ id, removed: done.removed, refused: done.refused });
  }
  return finished;
}
