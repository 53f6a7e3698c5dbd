/**
 * One item of a backup run, start to finish: a built-in service's target (dump, compress, hash,
 * place, record) or a drop-in script (run it, place what it wrote, record each file). Each returns
 * its report lines; the run (backup-run.ts) runs items side by side and gathers them.
 *
 * Longer than 200 lines because both kinds of item keep one order of effects (docs/guarantees.md:
 * written, copied, recorded in the manifest, then in the catalog), and side by side it shows.
 */
import type { Compression } from '../config/schema.js';
import type { Encryption } from '../config/encryption.js';
import { BattError, describeError } from '../errors/errors.js';
import type { ItemStatus } from '../catalog/schema.js';
import { addItem, finishItem, now, startItem } from '../catalog/queries.js';
import { deleteItem, failItem, setItemFacts } from '../catalog/items.js';
import { addCopies, type ConfirmedCopy } from '../catalog/copies.js';
import { copyEverywhere } from '../copies/copy.js';
import type { Copier } from '../copies/storages.js';
import type { Service } from '../plugins/discovery.js';
import { runScript } from './script-runner.js';
import { pluginContext } from '../plugins/types.js';
import { writeArtifact, type Artifact } from '../pipeline/artifact.js';
import type { BattConfig } from '../config/load.js';
import type { BackupRequest, ItemReport, Unit } from './backup-run.js';
import type { DurableMetadata } from './durable.js';
import { progressOf, type RunEvents } from '../events/events.js';
import { itemDeadline, type Limits } from './deadline.js';
import { stderrText } from '../exec/exec.js';
import { artifactBase } from '../text/names.js';

/** What every item of one run shares. */
export interface ItemScope {
  request: BackupRequest;
  runId: number;
  events: RunEvents;
  metadata: DurableMetadata;
  destFor(service: Service): string;
  /** The public keys a service's artifacts are encrypted to (checked at the start); undefined for none. */
  encryptionFor(service: Service): Encryption | undefined;
  /** Secrets masked, and cut to what the catalog keeps. */
  clean(text: string): string;
  /** `aborted` once the run is interrupted, else `failed`. */
  status(): ItemStatus;
  defaultCompression(): Compression;
  /** The storages a service's files are copied to (`storage:`), opened once per run. */
  copiersFor(service: Service): Promise<Copier[]>;
  /** The service's timeout and stall_timeout, in seconds (checked when the run started). */
  limitsFor(service: Service): Limits;
  /** Marks a finished item suspect when it fell sharply against the target's previous backups; the reason. */
  checkSuspect(id: number, service: string, target: string, bytes: number, facts: string | null): string | undefined;
}

/** Backs up one target of a built-in service: dump, compress, hash, place, record (in that order). */
export async function backUpBuiltin(scope: ItemScope, unit: Unit): Promise<ItemReport[]> {
  const { request, runId, events, metadata, clean, status, checkSuspect } = scope;
  const { db } = request;
  const reports: ItemReport[] = [];
  const service = unit.selection.service;
  const plugin = service.plugin!;
  const target = unit.target!;
  const started = Date.now();
  const startedAt = now();
  const itemId = startItem(db, runId, service.name, target, startedAt);
  const deadline = itemDeadline(request.signal, service.name, scope.limitsFor(service));
  try {
    if (unit.failure) throw unit.failure;
    if (request.signal.aborted) throw new BattError('INTERRUPTED', 'the run was interrupted before this item started');
    const section = request.config.services[service.name] ?? {};
    const compression = request.compression ?? (section.compression as Compression | undefined) ?? request.config.compression ?? scope.defaultCompression();
    const level = (section.compression_level as number | undefined) ?? request.config.compression_level;
    const encryption = scope.encryptionFor(service);
    // keep_local: false: straight to the first storage (its presence is checked at the run's start).
    const copiers = await scope.copiersFor(service);
    const remote = keepsLocal(request.config, service.name) ? undefined : copiers[0];
    events.emit({ type: 'item-started', kind: 'backup', runId, service: service.name, target, at: startedAt });
    const dump = await plugin.backup(pluginContext({ ...request, signal: deadline.signal }, service.name, runId), target);
    const progress = progressOf(events, { runId, service: service.name, target });
    const artifact = await writeArtifact({
      dump,
      dir: scope.destFor(service),
      base: artifactBase(target),
      ext: typeof plugin.extension === 'function' ? plugin.extension(target) : plugin.extension,
      compression,
      level,
      encryption,
      uniqueSuffix: `run${runId}`,
      signal: deadline.signal,
      onBytes: (bytes) => {
        deadline.touch();
        progress(bytes);
      },
      remote,
      service: service.name,
    });
    const { facts } = artifact;
    const copied = remote ? await copyFromFirst(copiers, artifact) : await copyOrKeep(scope, service, artifact);
    const warnings = [...(facts.warnings ?? []), ...copied.warnings];
    const finishedAt = now();
    try {
      await metadata.record([
        {
          service: service.name,
          target,
          file: artifact.path,
          ...(remote ? { local: false } : {}),
          bytes: artifact.bytes,
          sha256: artifact.sha256,
          compression,
          ...(encryption ? { encryption: encryption.method, recipients: encryption.recipients } : {}),
          toolVersion: facts.toolVersion,
          serverVersion: facts.serverVersion,
          facts: facts.facts,
          startedAt,
          finishedAt,
        },
      ]);
    } catch (error) {
      // The item fails: no copy may stay that no row records.
      await dropCopies(copiers, copied.copies);
      throw error;
    }
    addCopies(db, itemId, copied.copies);
    finishItem(db, itemId, 'ok', {
      file: artifact.path,
      local: !remote,
      bytes: artifact.bytes,
      sha256: artifact.sha256,
      compression,
      encryption: encryption?.method ?? null,
      recipients: encryption ? JSON.stringify(encryption.recipients) : null,
      toolVersion: facts.toolVersion ?? null,
      serverVersion: facts.serverVersion ?? null,
      facts: JSON.stringify({ ...facts.facts, warnings: warnings.length ? warnings : undefined }),
      log: warnings.length ? clean(warnings.join('\n')) : null,
      finishedAt,
    });
    for (const warning of warnings) events.emit({ type: 'item-warning', kind: 'backup', runId, service: service.name, target, message: warning });
    const done = {
      service: service.name,
      target,
      status: 'ok' as const,
      file: artifact.path,
      bytes: artifact.bytes,
      sha256: artifact.sha256,
      seconds: (Date.now() - started) / 1000,
      suspect: checkSuspect(itemId, service.name, target, artifact.bytes, JSON.stringify(facts.facts ?? {})),
    };
    events.emit({ type: 'item-finished', kind: 'backup', runId, ...done, facts });
    reports.push(done);
  } catch (raw) {
    const error = deadline.reason ?? raw;
    const message = clean(describeError(error));
    // A file whose required copy failed stays, and its failed row says where it is.
    const kept = (error as { kept?: { path: string; bytes: number; sha256: string } }).kept;
    // The failed tool's whole stderr is kept with the item (the message has only its last lines).
    const stderr = clean(stderrText((error as { cause?: { stderr?: unknown } }).cause ?? {}));
    finishItem(db, itemId, status(), { error: message, ...(stderr ? { log: stderr } : {}), ...(kept ? { file: kept.path, bytes: kept.bytes, sha256: kept.sha256 } : {}) });
    const failed = { service: service.name, target, status: status(), error: message, seconds: (Date.now() - started) / 1000 };
    events.emit({ type: 'item-finished', kind: 'backup', runId, ...failed });
    reports.push(failed);
  } finally {
    deadline.dispose();
  }
  return reports;
}

/** Copies a placed artifact to every storage; when a required copy fails, the error carries the kept local file. */
async function copyOrKeep(scope: ItemScope, service: Service, artifact: { path: string; bytes: number; sha256: string }): Promise<{ copies: ConfirmedCopy[]; warnings: string[] }> {
  try {
    return await copyEverywhere(await scope.copiersFor(service), artifact.path, artifact);
  } catch (error) {
    throw Object.assign(error as object, { kept: artifact });
  }
}

/** False when the service's artifacts go straight to the first storage (`keep_local: false`; a service's key wins). */
export function keepsLocal(config: BattConfig, service: string): boolean {
  return ((config.services[service]?.keep_local as boolean | undefined) ?? config.keep_local) !== false;
}

/**
 * With `keep_local: false`: the object in the first storage is the item's first copy (checked by
 * size as it was stored), and the other storages copy it from there, read back as any copy. If a
 * required one fails, the first object goes too: the item fails and leaves nothing.
 */
async function copyFromFirst(copiers: readonly Copier[], artifact: Artifact): Promise<{ copies: ConfirmedCopy[]; warnings: string[] }> {
  const [first, ...others] = copiers;
  const own: ConfirmedCopy = { storage: first.name, key: artifact.key!, bytes: artifact.bytes, sha256: artifact.sha256, copiedAt: now() };
  try {
    const rest = await copyEverywhere(others, artifact.path, artifact, {
      where: `the item fails, and its object in ${first.name} (${artifact.key}) is removed again`,
      open: () => first.storage.get(artifact.key!),
    });
    return { copies: [own, ...rest.copies], warnings: rest.warnings };
  } catch (error) {
    await first.storage.delete(artifact.key!).catch(() => false);
    throw error;
  }
}

/** Deletes the objects of copies no row will record (best effort). */
async function dropCopies(copiers: readonly Copier[], copies: readonly ConfirmedCopy[]): Promise<void> {
  for (const copy of copies)
    await copiers
      .find((c) => c.name === copy.storage)
      ?.storage.delete(copy.key)
      .catch(() => false);
}

/** Runs one drop-in script and records each file it wrote. */
export async function backUpDropIn(scope: ItemScope, unit: Unit): Promise<ItemReport[]> {
  const { request, runId, events, metadata, clean, status, checkSuspect } = scope;
  const { db } = request;
  const reports: ItemReport[] = [];
  const service = unit.selection.service;
  const startedAt = now();
  const started = Date.now();
  const label = unit.selection.targets.join(' ') || '*';
  // A row for the script while it runs: a batt killed meanwhile leaves it aborted, and the next
  // run removes whatever the script had placed that nothing records (run/recover.ts).
  const placeholder = startItem(db, runId, service.name, label, startedAt);
  setItemFacts(db, placeholder, JSON.stringify({ dropIn: true }));
  // A script's bytes are not seen as they come, so only its whole time is limited.
  const deadline = itemDeadline(request.signal, service.name, { timeout: scope.limitsFor(service).timeout });
  try {
    if (unit.failure) throw unit.failure;
    events.emit({ type: 'item-started', kind: 'backup', runId, service: service.name, target: label, script: service.path, at: startedAt });
    const result = await runScript({
      service,
      args: unit.selection.targets,
      dest: scope.destFor(service),
      runId,
      home: request.home.root,
      confDir: request.home.conf,
      signal: deadline.signal,
    });
    deadline.dispose(); // copies and records are not the script's time
    const copiers = await scope.copiersFor(service);
    const copied = new Map<string, ConfirmedCopy[]>();
    const finishedAt = now();
    try {
      for (const a of result.artifacts) {
        const made = await copyEverywhere(copiers, a.path, a);
        copied.set(a.path, made.copies);
        for (const warning of made.warnings) events.emit({ type: 'item-warning', kind: 'backup', runId, service: service.name, target: a.name, message: warning });
      }
      await metadata.record(
        result.artifacts.map((a) => ({ service: service.name, target: a.name, file: a.path, bytes: a.bytes, sha256: a.sha256, compression: null, startedAt, finishedAt })),
      );
    } catch (error) {
      // The script's item fails: no copy may stay that no row records.
      await dropCopies(copiers, [...copied.values()].flat());
      throw error;
    }
    // The script's output is kept once, on its first artifact.
    let log: string | null = clean(result.log) || null;
    for (const a of result.artifacts) {
      const id = addItem(db, {
        runId,
        service: service.name,
        target: a.name,
        file: a.path,
        bytes: a.bytes,
        sha256: a.sha256,
        compression: null,
        startedAt,
        finishedAt,
        status: 'ok',
        log,
      });
      log = null;
      addCopies(db, id, copied.get(a.path) ?? []);
      const seconds = (Date.now() - started) / 1000;
      const suspect = checkSuspect(id, service.name, a.name, a.bytes, null);
      const done = { service: service.name, target: a.name, status: 'ok' as const, file: a.path, bytes: a.bytes, sha256: a.sha256, seconds, suspect };
      events.emit({ type: 'item-finished', kind: 'backup', runId, ...done, script: true });
      reports.push(done);
    }
    deleteItem(db, placeholder);
  } catch (raw) {
    const error = deadline.reason ?? raw;
    const message = clean(describeError(error));
    const scriptLog = (error as { log?: string }).log;
    failItem(db, placeholder, status(), message, scriptLog ? clean(scriptLog) : null);
    const failed = { service: service.name, target: label, status: status(), error: message, seconds: (Date.now() - started) / 1000 };
    events.emit({ type: 'item-finished', kind: 'backup', runId, ...failed, script: true });
    reports.push(failed);
  } finally {
    deadline.dispose();
  }
  return reports;
}
