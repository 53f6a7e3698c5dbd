/**
 * Finishing what a killed run left (docs/guarantees.md). A run writes, per item: a temporary
 * file, fsynced; the file placed under its final name; its SHA256SUMS line and the run's
 * manifest; then the catalog row that says ok. A kill can stop it between any two of these. The
 * next backup, before it writes anything, puts each aborted item of recent aborted runs right:
 * - placed and in its run's manifest, and the file still matches what the manifest says: the
 *   item is taken back as ok (its SHA256SUMS line written if the kill came before it);
 * - placed but in no manifest: the file is removed (nothing proves it whole);
 * - temporary files of dead batts are removed by clearDeadTemps.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { abortedItemsOf, adoptItem, fileInCatalog } from '../catalog/items.js';
import { runFailures } from '../catalog/queries.js';
import { abortedRunsAmongLast } from '../catalog/runs.js';
import { expandPattern, withServicePlaceholder } from '../destination/expand.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { readText } from '../storage/storage.js';
import { forgetArtifacts, manifestName, writeManifests, type ManifestItem, type ManifestRun } from '../manifest/manifest.js';
import { artifactBase } from '../text/names.js';

export interface Recovery {
  /** Files of killed runs taken back as ok backups. */
  adopted: string[];
  /** Final-named files of killed runs that nothing proved whole: removed. */
  removed: string[];
}

interface AbortedItem {
  id: number;
  service: string;
  target: string;
  /** A drop-in script's row: its files may have any name, in sub-folders too. */
  dropIn: boolean;
}

/** The aborted runs among the last `recent` runs that still have aborted items without a file. */
function abortedRuns(db: CatalogDb, recent: number): { id: number; destination: string; startedAt: string; host: string; items: AbortedItem[] }[] {
  const runs = abortedRunsAmongLast(db, recent);
  const itemsOf = abortedItemsOf(db);
  return runs
    .map(([id, destination, startedAt, host]) => ({
      id,
      destination: destination ?? '',
      startedAt,
      host: host ?? '',
      items: itemsOf(id).map(([i, service, target, facts]) => ({ id: i, service, target, dropIn: facts === '{"dropIn":true}' })),
    }))
    .filter((r) => r.destination && r.items.length);
}

/** Files below `dir`, as paths relative to it. */
async function filesBelow(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of localStorage.list(dir)) found.push(relative(dir, key));
  return found;
}

export async function recoverAbortedItems(db: CatalogDb, battVersion: string, recent = 50): Promise<Recovery> {
  const result: Recovery = { adopted: [], removed: [] };
  const known = fileInCatalog(db);
  for (const run of abortedRuns(db, recent)) {
    for (const service of new Set(run.items.map((i) => i.service))) {
      let folder: string;
      try {
        folder = expandPattern(withServicePlaceholder(run.destination), new Date(run.startedAt), { service, host: run.host });
      } catch {
        continue;
      }
      if (!existsSync(folder)) continue;
      const manifestPath = join(folder, manifestName(run.id));
      let manifest: { run?: ManifestRun; items?: (ManifestItem & { name: string })[] } = {};
      try {
        manifest = JSON.parse((await readText(localStorage, manifestPath)) ?? '{}') as typeof manifest;
      } catch {
        // no manifest (killed before it): nothing of this folder can be taken back
      }
      const ours = manifest.run?.startedAt === run.startedAt ? (manifest.items ?? []) : [];
      let adoptedHere = false;
      const removedHere = new Set<string>();
      for (const item of run.items.filter((i) => i.service === service)) {
        const entry = ours.find((e) => e.service === service && e.target === item.target);
        const file = entry ? join(folder, entry.name) : undefined;
        if (entry && file && !known(file) && (await localStorage.stat(file))) {
          const actual = await hashObject(localStorage, file);
          if (actual.sha256 === entry.sha256 && actual.bytes === entry.bytes) {
            adoptItem(db, item.id, {
              file,
              bytes: entry.bytes,
              sha256: entry.sha256,
              compression: entry.compression ?? null,
              encryption: entry.encryption ?? null,
              recipients: entry.recipients ? JSON.stringify(entry.recipients) : null,
              toolVersion: entry.toolVersion ?? null,
              serverVersion: entry.serverVersion ?? null,
              facts: JSON.stringify(entry.facts ?? {}),
              finishedAt: entry.finishedAt ?? run.startedAt,
            });
            result.adopted.push(file);
            adoptedHere = true;
            continue;
          }
        }
        // Placed under a final name for this item (after the run began, known to no catalog row),
        // but not proven whole by its manifest: it goes, with any line it has. A built-in item's
        // file carries its target's name; a drop-in script's files may be any, below its folder.
        const base = artifactBase(item.target);
        const candidates = item.dropIn
          ? (await filesBelow(folder)).filter((n) => !n.split('/').some((p) => p.startsWith('.')) && n !== 'SHA256SUMS' && !/^batt-run-\d+\.json$/.test(n))
          : readdirSync(folder).filter((n) => n.startsWith(`${base}.`) || n.startsWith(`${base}-run${run.id}`));
        for (const name of candidates) {
          const path = join(folder, name);
          const stat = await localStorage.stat(path);
          if (known(path) || !stat || stat.modified.toISOString() < run.startedAt) continue;
          await localStorage.delete(path).catch(() => false);
          result.removed.push(path);
          removedHere.add(name);
        }
      }
      if (removedHere.size) await forgetArtifacts(folder, removedHere, [run.id]);
      if (adoptedHere) {
        // Its SHA256SUMS line (the kill may have come before it) and manifest, as a finished run has them.
        const kept = ours.filter((e) => known(join(folder, e.name))).map(({ name, ...e }) => ({ ...e, file: join(folder, name) }));
        await writeManifests({ ...(manifest.run as ManifestRun), battVersion: manifest.run?.battVersion ?? battVersion }, kept, () => folder, runFailures(db, run.id));
      }
    }
  }
  return result;
}
