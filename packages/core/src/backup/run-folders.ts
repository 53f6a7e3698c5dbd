/**
 * The folders of a backup run: where each service's files of this run go, which run ids their
 * manifests have already taken, and where recent aborted runs wrote (to clean up after them).
 */
import { readdirSync } from 'node:fs';
import type { BattConfig } from '../config/load.js';
import type { CatalogDb } from '../catalog/db.js';
import { recentAbortedRuns } from '../catalog/runs.js';
import { expandPattern, withServicePlaceholder } from '../destination/expand.js';
import { manifestPattern } from '../manifest/manifest.js';

export interface FolderRequest {
  config: BattConfig;
  destination: string;
  destinationForced?: boolean;
  clock: Date;
  host: string;
}

/** The folder a service's backups of this run go to. */
export function folderFor(request: FolderRequest, service: string): string {
  const own = request.destinationForced ? undefined : (request.config.services[service]?.destination as string | undefined);
  return expandPattern(own ? withServicePlaceholder(own) : withServicePlaceholder(request.destination), request.clock, { service, host: request.host });
}

/**
 * The highest run id a manifest in these folders has taken: a catalog that was lost and started
 * again at 1, or another home writing into the same folders, must not make a new run's manifest
 * replace an earlier run's (its id goes on from theirs).
 */
export function idsTakenIn(folders: readonly string[]): number {
  let highest = 0;
  for (const folder of folders) {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue; // not there yet
    }
    for (const name of names) highest = Math.max(highest, Number(manifestPattern.exec(name)?.[1] ?? 0));
  }
  return highest;
}

/** The folders recent aborted runs wrote into, each as its destination expanded at its start. */
export function abortedRunFolders(db: CatalogDb): string[] {
  const folders: string[] = [];
  for (const [destination, startedAt, services, host] of recentAbortedRuns(db)) {
    if (!destination) continue;
    for (const service of (services ?? '').split(',').filter(Boolean)) {
      try {
        folders.push(expandPattern(withServicePlaceholder(destination), new Date(startedAt), { service, host: host ?? '' }));
      } catch {
        // a pattern this batt no longer reads: catalog check still reports its leftovers
      }
    }
  }
  return folders;
}
