/**
 * `batt catalog check` and `batt catalog rebuild`: the catalog against the backups on disk, and
 * a new catalog from their manifests.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import {
  acceptSuspect,
  acquireLock,
  BattError,
  catalogTarget,
  checkCatalog,
  hasCopies,
  closeCatalog,
  defaultDestination,
  findService,
  destinationRoots,
  ExitCode,
  openCatalog,
  rebuildCatalog,
  foldersSource,
  storageSource,
  type RebuildSource,
  type CatalogDb,
} from '@batt/core';
import type { App } from '../app.js';
import { loadAppConfig } from './common.js';
import { colourStatus, humanBytes, out, printJson, text } from '../output.js';

export interface CatalogToolArgs {
  folders: string[];
  quick: boolean;
  /** rebuild: take in manifests of every host, not just this one. */
  anyHost?: boolean;
  /** rebuild: read the manifests in this storage (`storage:`) instead of the backup folders. */
  from?: string;
  config?: string;
  json: boolean;
  quiet: boolean;
}

/** Where to look for backups: the folders given, else the fixed roots of every destination known. */
async function backupRoots(app: App, args: CatalogToolArgs, db?: CatalogDb): Promise<string[]> {
  if (args.folders.length) return args.folders.map((f) => resolve(f));
  const config = await loadAppConfig(app, args);
  return destinationRoots(db, config, defaultDestination(app.home.root)).filter((r) => existsSync(r));
}

export async function catalogCheckCommand(app: App, args: CatalogToolArgs): Promise<number> {
  const db = await openCatalog(app.home.catalog);
  try {
    const roots = await backupRoots(app, args, db);
    // The copies in other storages are opened as the configuration names them.
    const config = hasCopies(db) ? await loadAppConfig(app, args) : undefined;
    const report = await checkCatalog(db, roots, { quick: args.quick, config });
    if (args.json) printJson({ roots, ...report });
    else {
      for (const p of report.problems) out`${colourStatus(p.kind)}  ${p.file}${p.runId ? `  (run ${p.runId})` : ''}\n    ${p.detail}\n`;
      out`${report.files} files (${humanBytes(report.bytes)})${report.copies ? ` and ${report.copies} ${report.copies === 1 ? 'copy' : 'copies'}` : ''} checked${args.quick ? ' by size' : ' by size and SHA-256'} under ${roots.join(', ') || 'no folder'}: ${report.problems.length ? `${report.problems.length} problem(s)` : 'all present and matching, no orphans'}\n`;
    }
    return report.problems.length ? ExitCode.failed : ExitCode.ok;
  } finally {
    closeCatalog(db);
  }
}

/** Where a rebuild reads: the storage `--from` names, else the backup folders; and what to call it. */
async function rebuildSource(app: App, args: CatalogToolArgs, host: string | undefined): Promise<{ source: RebuildSource; from: string }> {
  if (args.from === undefined) {
    const roots = await backupRoots(app, args);
    if (roots.length === 0) throw new BattError('NOT_FOUND', 'no backup folder to rebuild the catalog from', { hint: 'name the folders: batt catalog rebuild /srv/backup' });
    return { source: foldersSource(roots), from: roots.join(', ') };
  }
  if (args.folders.length) throw new BattError('USAGE', 'give either backup folders or --from <storage>, not both', { hint: 'batt catalog rebuild --from offsite' });
  const config = await loadAppConfig(app, args);
  const roots = destinationRoots(undefined, config, defaultDestination(app.home.root));
  return { source: await storageSource(config, args.from, roots, host), from: `the storage ${args.from}` };
}

export async function catalogRebuildCommand(app: App, args: CatalogToolArgs): Promise<number> {
  const lock = acquireLock(app.home.root);
  try {
    const host = args.anyHost ? undefined : hostname();
    const { source, from } = await rebuildSource(app, args, host);
    const report = await rebuildCatalog(app.home.catalog, source, {
      quick: args.quick,
      host,
      onRun: args.quiet || args.json || !process.stderr.isTTY ? undefined : (id) => process.stderr.write(`\rrun ${id}…`),
    });
    if (!args.quiet && !args.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (args.json) printJson({ from, ...report });
    else {
      for (const s of report.skipped) out`${colourStatus('skipped')}  ${s.file}\n    ${s.why}\n`;
      for (const n of report.notes) out`note  ${n.file}\n    ${n.note}\n`;
      if (report.withoutManifest.length) {
        const ids = report.withoutManifest.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(', ');
        process.stdout.write(
          `no manifest names run ${ids}: a run that wrote no file (every item failed) leaves none, and a pruned run's goes with its last file, so the rebuilt catalog cannot know them\n`,
        );
      }
      out`rebuilt ${app.home.catalog} from ${from}: ${report.runs} runs, ${report.items} backups, ${report.failedItems} failed items, ${report.bundles} bundles${report.skipped.length ? text`, ${report.skipped.length} left out` : ''}\n`;
      if (report.previous) out`the previous catalog is kept as ${report.previous}; verify and restore history starts afresh\n`;
    }
    return report.skipped.length ? ExitCode.failed : ExitCode.ok;
  } finally {
    lock.release();
  }
}

export interface AcceptArgs {
  run: string;
  service?: string;
  targets: string[];
  json: boolean;
}

/** `batt accept <run>`: the drop that made its backups suspect was intended; they count as good again. */
export async function acceptCommand(app: App, args: AcceptArgs): Promise<number> {
  if (!/^\d+$/.test(args.run)) throw new BattError('USAGE', `"${args.run}" is not a run id`, { hint: 'give the run id `batt runs` shows as suspect' });
  const service = args.service === undefined ? undefined : (findService(app.services, args.service)?.name ?? args.service);
  const db = await openCatalog(app.home.catalog);
  try {
    const accepted = (args.targets.length ? args.targets : [undefined]).flatMap((t) =>
      acceptSuspect(
        db,
        Number(args.run),
        service,
        t === undefined
          ? undefined
          : catalogTarget(
              app.services.find((s) => s.name === service),
              t,
            ),
      ),
    );
    if (accepted.length === 0) {
      throw new BattError('NOT_FOUND', `run ${args.run} has no suspect backup${service ? ` of ${service}` : ''}${args.targets.length ? ` (${args.targets.join(', ')})` : ''}`, {
        hint: '`batt runs` shows suspect runs; `batt show <run>` says why',
      });
    }
    if (args.json) printJson(accepted);
    else for (const a of accepted) out`accepted ${a.service} ${a.target} of run ${args.run} as good (was: ${a.was}); later backups compare with it\n`;
    return ExitCode.ok;
  } finally {
    closeCatalog(db);
  }
}
