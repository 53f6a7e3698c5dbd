/**
 * One backup run, start to finish, in the order gobackup's diagram reads: list targets, dump
 * each into the core's pipeline (compress, hash, atomic write), record it, write the manifests.
 * Targets of all services run together up to `concurrency`; one failing never stops the others.
 *
 * Longer than 200 lines because it is the run's whole order in one place (lock, recover, list,
 * run items, manifests, bundle, finish); each step's work is in its own file beside it.
 */
import type { BattConfig } from '../config/load.js';
import type { Compression } from '../config/schema.js';
import type { Encryption } from '../config/encryption.js';
import { describeError, exitCodeFor } from '../errors/errors.js';
import { withServicePlaceholder } from '../destination/expand.js';
import type { HomeLayout } from '../home/home.js';
import type { Service } from '../plugins/discovery.js';
import { pluginContext } from '../plugins/types.js';
import { clearDeadTemps } from '../storage/atomic-file.js';
import { zstdAvailable } from '../pipeline/compress.js';
import type { CatalogDb } from '../catalog/db.js';
import { createRun, finishRun, now, setRunBundle } from '../catalog/queries.js';
import type { ItemStatus, RunStatus } from '../catalog/schema.js';
import { redact, type Logger } from '../log/logger.js';
import { humanBytes } from '../text/names.js';
import { markIfSuspect } from './suspect.js';
import { bundleFolder, writeBundle } from './bundle.js';
import { recoverAbortedItems } from './recover.js';
import { limitsOf, type Limits } from './deadline.js';
import { RunHooks } from './hooks.js';
import { preflight } from './preflight.js';
import { abortedRunFolders, folderFor, idsTakenIn } from './run-folders.js';
import { durableMetadata } from './durable.js';
import { copyManifests, openCopiers } from './offsite.js';
import { clearAbandoned } from '../copies/pending.js';
import { type Copier } from '../copies/storages.js';
import { backUpBuiltin, backUpDropIn, type ItemScope } from './items.js';
import { RunEvents, type BackupEvent } from '../events/events.js';
import { subscribeRun } from '../subscribers/subscribe-run.js';

export interface Selection {
  service: Service;
  /** Targets named on the command line; empty means the service's defaults. */
  targets: string[];
  /** Chosen because it is enabled, not named: a misconfiguration then fails its item, not the run. */
  implicit?: boolean;
}

export interface BackupRequest {
  db: CatalogDb;
  home: HomeLayout;
  config: BattConfig;
  selections: Selection[];
  /** The destination pattern (flag, config or default). */
  destination: string;
  /** True when the pattern came from --path: it then wins over per-service destinations. */
  destinationForced?: boolean;
  /** Compression forced by the command line, overriding config. */
  compression?: Compression;
  concurrency: number;
  /** Also write the run's artifacts as one tar with its own SHA-256 file (seed 000). */
  bundle?: boolean;
  /** The run's one clock: every path of the run is expanded at this instant. */
  clock: Date;
  host: string;
  user: string;
  battVersion: string;
  log: Logger;
  /** Values masked in every log and catalog text (passwords from config and environment). */
  secrets: Set<string>;
  signal: AbortSignal;
  /** The run's events (events/events.ts): the log, notifications and metrics subscribe here (subscribers/subscribe-run.ts); callers may subscribe more. */
  events?: RunEvents;
  /** The targets, already being listed (planBackup); listed here when absent. */
  planned?: Promise<Unit[]>;
}

/** A finished item, as its `item-finished` event says it, and why it looks wrong if it does (backup/suspect.ts). */
export type ItemReport = Omit<Extract<BackupEvent, { type: 'item-finished' }>, 'type' | 'kind' | 'runId' | 'script' | 'facts'>;

export interface RunReport {
  id: number;
  status: RunStatus;
  items: ItemReport[];
  manifests: string[];
  /** The run as one tar, with --bundle. */
  bundle?: string;
}

export interface Unit {
  selection: Selection;
  target?: string;
  /** Set when listing targets failed: the unit only records the failure. */
  failure?: unknown;
}

/** What listing the targets needs: no catalog. */
export type PlanSource = Pick<BackupRequest, 'config' | 'selections' | 'log' | 'signal' | 'home'>;

const LOG_CAP = 64 * 1024;

/**
 * Lists every service's targets. A usage error (a service with nothing to back up) ends the
 * command before any run is recorded when the service was named; for a service that runs because
 * it is enabled, it fails that service's item only, so one misconfigured service never stops a
 * plain `batt` (cron) from backing up the others. Any other failure becomes a failed item.
 */
async function planUnits(request: PlanSource): Promise<Unit[]> {
  const units: Unit[] = [];
  for (const selection of request.selections) {
    const plugin = selection.service.plugin;
    if (!plugin) {
      units.push({ selection });
      continue;
    }
    const ctx = pluginContext(request, selection.service.name, 0);
    try {
      for (const target of await plugin.listTargets(ctx, selection.targets)) units.push({ selection, target });
    } catch (failure) {
      if (exitCodeFor(failure) === 2 && !selection.implicit) throw failure;
      units.push({ selection, target: selection.targets.join(' ') || '*', failure });
    }
  }
  return units;
}

/**
 * Starts listing the targets (runBackup's `planned`), as soon as the lock is held: a database
 * plugin starts its client then (mysql's listTargets), so its start and connection overlap the
 * catalog's opening and the run's housekeeping. Its failure waits for the run to take it.
 */
export function planBackup(request: PlanSource): Promise<Unit[]> {
  const planned = planUnits(request);
  planned.catch(() => {});
  return planned;
}

export async function runBackup(request: BackupRequest): Promise<RunReport> {
  const { db } = request;
  const encryption = await preflight(request);
  // What dead batts left half written goes first: their temporary files (up to a dump's size).
  const thisRun = request.selections.map((s) => folderFor(request, s.service.name));
  for (const path of clearDeadTemps(new Set([...thisRun, ...abortedRunFolders(db)]))) request.log.info(`removed ${path}, left by a batt that died`);
  // Files a killed run placed: taken back when its manifest proves them whole, else removed.
  const recovered = await recoverAbortedItems(db, request.battVersion);
  for (const path of recovered.adopted) request.log.warn(`took back ${path}: a killed run had written it whole (its manifest and SHA-256 agree)`);
  for (const path of recovered.removed) request.log.warn(`removed ${path}: a killed run placed it, but no manifest proves it whole`);
  // Uploads a killed run left unfinished in a storage (an open multipart upload, a temporary object).
  for (const what of await clearAbandoned(request.home.root, request.config, request.log)) request.log.warn(`removed ${what}: a killed run left it unfinished`);
  const units = await (request.planned ?? planUnits(request));
  // Every storage is proven reachable and writable before the first dump (wrong credentials, a missing bucket).
  const copiers = await openCopiers(request);
  const events = request.events ?? new RunEvents(request.log);
  const subscribers = subscribeRun(events, request);
  const runId = createRun(db, {
    afterId: idsTakenIn([...new Set(thisRun)]),
    startedAt: request.clock.toISOString(),
    host: request.host,
    user: request.user,
    // As it really was: /{service} is part of every destination.
    destination: withServicePlaceholder(request.destination),
    services: request.selections.map((s) => s.service.name).join(','),
    pid: process.pid,
  });
  events.emit({ type: 'run-started', kind: 'backup', runId, at: request.clock.toISOString(), services: request.selections.map((sel) => sel.service.name) });
  try {
    const report = await executeRun(request, runId, units, events, encryption, copiers);
    events.emit({
      type: 'run-finished',
      kind: 'backup',
      runId,
      status: report.status,
      at: now(),
      ok: report.items.filter((i) => i.status === 'ok').length,
      failed: report.items.filter((i) => i.status !== 'ok').length,
    });
    return report;
  } catch (error) {
    // An unexpected failure must not leave the run `running` until the next start.
    finishRun(db, runId, 'failed', `batt failed: ${describeError(error)}`);
    events.emit({ type: 'run-finished', kind: 'backup', runId, status: 'failed', at: now(), ok: 0, failed: 0, error: redact(describeError(error), request.secrets) });
    throw error;
  } finally {
    await subscribers.close();
  }
}

async function executeRun(
  request: BackupRequest,
  runId: number,
  units: Unit[],
  events: RunEvents,
  encryption: Map<string, Encryption>,
  copiers: Map<string, Copier[]>,
): Promise<RunReport> {
  const { db, config, log } = request;
  const clean = (text: string): string => redact(text, request.secrets).slice(0, LOG_CAP);
  const destFor = (service: Service): string => folderFor(request, service.name);

  let fallbackWarned = false;
  const defaultCompression = (): Compression => {
    if (zstdAvailable()) return 'zstd';
    if (!fallbackWarned) log.warn('zstd is not installed: compressing with gzip instead (apt-get install zstd for faster backups)');
    fallbackWarned = true;
    return 'gzip';
  };

  /** Marks a finished item suspect when it fell sharply against the target's previous backups, and says so. */
  const checkSuspect = (id: number, service: string, target: string, bytes: number, facts: string | null): string | undefined => {
    const below = (config.services[service]?.suspect_below as number | undefined) ?? config.suspect_below ?? 0.5;
    let reason: string | undefined;
    try {
      reason = markIfSuspect(db, { id, service, target, bytes, facts }, below);
    } catch (error) {
      // The backup is placed and recorded: a failed comparison must not fail it.
      log.scoped(service).warn(`${target}: could not compare with earlier backups: ${describeError(error)}`);
    }
    if (reason) log.scoped(service).warn(`${target}: SUSPECT: ${reason}; check the source, then \`batt verify\`. Retention does not count this backup as good.`);
    return reason;
  };

  // Reports keep the order units were planned in, whatever order they finish in.
  const reports: ItemReport[][] = units.map(() => []);
  const status = (): ItemStatus => (request.signal.aborted ? 'aborted' : 'failed');
  const serviceByName = new Map(request.selections.map((s) => [s.service.name, s.service]));
  const metadata = durableMetadata(
    db,
    {
      id: runId,
      startedAt: request.clock.toISOString(),
      host: request.host,
      user: request.user,
      destination: withServicePlaceholder(request.destination),
      battVersion: request.battVersion,
    },
    (item) => destFor(serviceByName.get(item.service)!),
  );

  const copiersFor = async (service: Service): Promise<Copier[]> => copiers.get(service.name) ?? [];
  const encryptionFor = (service: Service): Encryption | undefined => encryption.get(service.name);
  const limitsFor = (service: Service): Limits => limitsOf(request.config, service.name);
  const scope: ItemScope = { request, runId, events, metadata, destFor, encryptionFor, clean, status, defaultCompression, checkSuspect, copiersFor, limitsFor };

  const { default: pMap } = await import('p-map');
  const hooks = new RunHooks(
    config,
    { runId, signal: request.signal, log, destFor: (name) => folderFor(request, name) },
    units.map((u) => ({ service: u.selection.service.name, target: u.target ?? (u.selection.targets.join(' ') || '*') })),
  );
  await pMap(
    units.map((unit, index) => ({ unit, index })),
    async ({ unit, index }) => {
      const service = unit.selection.service;
      // A `before` hook that failed stops the service's items, each failing with its reason.
      const stopped = await hooks.ready(service.name);
      const guarded = stopped && !unit.failure ? { ...unit, failure: stopped } : unit;
      reports[index] = await (service.plugin ? backUpBuiltin(scope, guarded) : backUpDropIn(scope, guarded));
      await hooks.itemDone(
        service.name,
        reports[index].map((r) => r.status),
      );
    },
    {
      concurrency: request.concurrency,
    },
  );

  const items = reports.flat();
  let manifests: string[] = [];
  try {
    // Once more with every failure of the run, so a rebuild gets them back too.
    manifests = await metadata.writeAll();
  } catch (error) {
    log.error(`cannot write the run's manifest/SHA256SUMS: ${describeError(error)}`);
    items.push({ service: 'batt', target: 'manifest', status: 'failed', error: describeError(error), seconds: 0 });
  }
  for (const error of await copyManifests(request, runId, manifests, copiers)) {
    log.error(error);
    items.push({ service: 'batt', target: 'manifest copy', status: 'failed', error, seconds: 0 });
  }

  let bundlePath: string | undefined;
  if (request.bundle && metadata.items.length && !request.signal.aborted) {
    try {
      const bundle = await writeBundle(
        runId,
        // Only what is here: an artifact sent straight to a storage (keep_local: false) is not.
        [...metadata.items.filter((i) => i.local !== false).map((i) => i.file), ...manifests],
        bundleFolder(withServicePlaceholder(request.destination), request.clock, request.host),
        request.signal,
      );
      setRunBundle(db, runId, bundle);
      log.info(`bundle → ${bundle.path} (${humanBytes(bundle.bytes)})`);
      bundlePath = bundle.path;
    } catch (error) {
      log.error(`cannot write the run's bundle: ${describeError(error)}`);
      items.push({ service: 'batt', target: 'bundle', status: 'failed', error: describeError(error), seconds: 0 });
    }
  }

  const ok = items.filter((r) => r.status === 'ok').length;
  const runStatus: RunStatus = request.signal.aborted ? 'aborted' : ok === items.length ? 'ok' : ok === 0 ? 'failed' : 'partial';
  const failures = items.filter((r) => r.status !== 'ok');
  finishRun(
    db,
    runId,
    runStatus,
    failures.length
      ? failures
          .map((f) => `${f.service} ${f.target}: ${f.error}`)
          .join('; ')
          .slice(0, 4000)
      : undefined,
  );
  await hooks.runDone(runStatus);
  return { id: runId, status: runStatus, items, manifests, bundle: bundlePath };
}
