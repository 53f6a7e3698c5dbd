/**
 * The backup run's side of off-site copies (docs/storage.md): every storage proven reachable
 * before the first dump, and each folder's manifest and SHA256SUMS copied at the end of the run.
 * Each artifact's own copy is made by its item (items.ts).
 */
import { join } from 'node:path';
import { copyEverywhere } from '../copies/copy.js';
import { pendingDir } from '../storage/journaled.js';
import { openStorages, storagesOf, type Copier } from '../copies/storages.js';
import { withServicePlaceholder } from '../destination/expand.js';
import { BattError, describeError } from '../errors/errors.js';
import { manifestName } from '../manifest/manifest.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import type { BackupRequest } from './backup-run.js';
import { keepsLocal } from './items.js';
import { folderFor } from './run-folders.js';

/** The copiers of every selected service (a service's `storage:` replaces the top level's), each storage checked once. */
export async function openCopiers(request: BackupRequest): Promise<Map<string, Copier[]>> {
  const byService = new Map<string, Copier[]>();
  const checked = new Set<string>();
  for (const { service } of request.selections) {
    const copiers = await openStorages(storagesOf(request.config, service.name), {
      destination: withServicePlaceholder(request.destination),
      service: service.name,
      host: request.host,
      clock: request.clock,
      pending: pendingDir(request.home.root),
    });
    if (service.plugin && !keepsLocal(request.config, service.name) && copiers.length === 0) {
      throw new BattError('CONFIG', `${service.name}: keep_local is false, but no storage is configured to send its backups to`, {
        hint: 'add a storage: (the first one receives each artifact as it is written; docs/storage.md), or set keep_local: true',
      });
    }
    for (const copier of copiers) {
      if (checked.has(copier.name)) continue;
      checked.add(copier.name);
      await copier.storage.check?.();
    }
    byService.set(service.name, copiers);
  }
  return byService;
}

/** Copies each folder's manifest and SHA256SUMS (as they are at the end of the run) to the storages of its service. */
export async function copyManifests(request: BackupRequest, runId: number, manifests: readonly string[], copiers: Map<string, Copier[]>): Promise<string[]> {
  const errors: string[] = [];
  for (const { service } of request.selections) {
    const folder = folderFor(request, service.name);
    const manifest = join(folder, manifestName(runId));
    if (!manifests.includes(manifest)) continue;
    for (const file of [manifest, join(folder, 'SHA256SUMS')]) {
      try {
        await copyEverywhere(copiers.get(service.name) ?? [], file, await hashObject(localStorage, file));
      } catch (error) {
        errors.push(describeError(error));
      }
    }
  }
  return errors;
}
