/**
 * `batt verify`: re-hash stored artifacts against the catalog and their folder's SHA256SUMS,
 * check each format for completeness (the plugin reads the decompressed stream: a dump trailer,
 * `pg_restore --list`, `redis-check-rdb`, a tar listing), and with `--restore-test` run a
 * restore drill. Every result is stored in the catalog.
 *
 * Longer than 200 lines because the verdict and the drill of one backup share its source (local,
 * fetched back, or `--from` a storage) and its key; splitting them would pass all of it around.
 */
import { localStorage } from '../storage/local.js';
import { readText } from '../storage/storage.js';
import { join } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { BattConfig } from '../config/load.js';
import { describeError } from '../errors/errors.js';
import type { HomeLayout } from '../home/home.js';
import type { Service } from '../plugins/discovery.js';
import { pluginContext, type Check } from '../plugins/types.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/logger.js';
import { RunEvents, runStatusOf } from '../events/events.js';
import { subscribeRun } from '../subscribers/subscribe-run.js';
import { sumLine } from '../manifest/manifest.js';
import { checkArtifact, drain } from './artifact.js';
import { dropFetchedRemote, fetchMissing } from '../copies/fetch.js';
import { copySource, type CopySource } from '../copies/from.js';
import { encryptedOf, haveKeysFor, readAgeIdentities, type DecryptionKeys } from './decrypt.js';
import { artifactFolderOf } from '../destination/folders.js';
import { finishCheck, selectItems, sourceOf, startCheck, type ItemQuery, type Selected } from './select.js';

export interface VerifyRequest extends ItemQuery {
  db: CatalogDb;
  home: HomeLayout;
  config: BattConfig;
  services: Service[];
  restoreTest: boolean;
  /** --identity: an age identity file; without it age-encrypted backups get their integrity checks only. */
  identityFile?: string;
  /** --from: check each backup's copy in this storage (docs/storage.md) rather than its local file. */
  from?: string;
  log: Logger;
  secrets: Set<string>;
  signal: AbortSignal;
  /** The run's events (events/events.ts): the log, notifications and metrics subscribe here (subscribers/subscribe-run.ts); callers may subscribe more. */
  events?: RunEvents;
}

export interface VerifyOutcome {
  runId: number;
  itemId: number;
  service: string;
  target: string;
  file: string;
  kind: 'verify' | 'restore-test';
  ok: boolean;
  checks: Check[];
  error?: string;
}

/**
 * The line for `file` in the SHA256SUMS beside its run's manifest agrees with the catalog: its own
 * folder, or for a drop-in script's sub-folders the service folder above it, under the name
 * relative to that folder.
 */
async function sumsCheck(file: string, sha256: string | null, runId: number, copied?: { key: string; text: string | undefined }): Promise<Check> {
  const { folder, name } = artifactFolderOf(file, runId);
  const sums = copied?.key ?? join(folder, 'SHA256SUMS');
  const text = copied ? copied.text : await readText(localStorage, sums);
  if (text === undefined) return { name: 'SHA256SUMS', ok: false, detail: `${sums} is missing` };
  const lines = text.split('\n');
  if (sha256 && lines.includes(sumLine(sha256, name))) return { name: 'SHA256SUMS', ok: true, detail: 'lists the same SHA-256' };
  return { name: 'SHA256SUMS', ok: false, detail: `${sums} has no matching line for ${name}` };
}

type Base = Omit<VerifyOutcome, 'kind' | 'ok' | 'checks' | 'error'>;

/** Runs one check of an item (its `work` adds to the list), records it in the catalog and tells the verdict. */
async function recorded(
  request: VerifyRequest,
  events: RunEvents,
  base: Base,
  kind: VerifyOutcome['kind'],
  work: (checks: Check[]) => Promise<void>,
): Promise<VerifyOutcome | undefined> {
  const about = { kind: 'verify', check: kind, runId: base.runId, service: base.service, target: base.target, file: base.file } as const;
  const checkId = startCheck(request.db, base.itemId, kind);
  if (checkId === undefined) {
    events.emit({ type: 'item-finished', ...about, status: 'pruned', checks: [], seconds: 0 });
    return undefined;
  }
  const started = Date.now();
  events.emit({ type: 'item-started', ...about, at: new Date(started).toISOString() });
  const checks: Check[] = [];
  let error: string | undefined;
  try {
    await work(checks);
  } catch (failure) {
    error = redact(describeError(failure), request.secrets);
    checks.push(...((failure as { checks?: Check[] }).checks ?? []));
  }
  const ok = error === undefined && checks.every((c) => c.ok);
  finishCheck(request.db, checkId, { ok, checks, error });
  events.emit({ type: 'item-finished', ...about, status: ok ? 'ok' : 'failed', checks, ...(error === undefined ? {} : { error }), seconds: (Date.now() - started) / 1000 });
  return { ...base, kind, ok, checks, error };
}

export async function verifyItems(request: VerifyRequest): Promise<VerifyOutcome[]> {
  const selected = selectItems(request.db, request.services, request);
  const keys: DecryptionKeys = request.identityFile ? { ageIdentities: await readAgeIdentities(request.identityFile) } : {};
  for (const identity of keys.ageIdentities ?? []) request.secrets.add(identity);
  // --from: no backup lacks a copy there (else nothing is checked), and each is fetched in its turn.
  const from =
    request.from === undefined
      ? undefined
      : copySource(
          request.db,
          request.config,
          request.home.root,
          request.from,
          selected.map(({ item }) => item),
          request.log,
        );
  const events = request.events ?? new RunEvents(request.log);
  const subscribers = subscribeRun(events, request);
  const outcomes: VerifyOutcome[] = [];
  const failed = (): number => outcomes.filter((o) => !o.ok).length;
  events.emit({ type: 'run-started', kind: 'verify', at: new Date().toISOString(), services: [...new Set(selected.map((s) => s.service.name))], restoreTest: request.restoreTest });
  try {
    await verifyEach(request, events, selected, outcomes, keys, from);
    // Inside the try: the subscribers (notifications, metrics) must hear how it ended.
    events.emit({
      type: 'run-finished',
      kind: 'verify',
      status: runStatusOf(outcomes.length - failed(), failed(), request.signal.aborted),
      at: new Date().toISOString(),
      ok: outcomes.length - failed(),
      failed: failed(),
    });
  } catch (error) {
    events.emit({ type: 'run-finished', kind: 'verify', status: 'failed', at: new Date().toISOString(), ok: outcomes.length - failed(), failed: failed() });
    throw error;
  } finally {
    from?.dispose();
    await subscribers.close();
  }
  return outcomes;
}

/** Verifies each selected backup, then drills it when asked and it passed, adding to `outcomes`. */
async function verifyEach(
  request: VerifyRequest,
  events: RunEvents,
  selected: Selected[],
  outcomes: VerifyOutcome[],
  keys: DecryptionKeys,
  from: CopySource | undefined,
): Promise<void> {
  for (const { run, item: local, service } of selected) {
    const fetched: string[] = [];
    try {
      await verifyOne(request, events, { run, item: local, service }, outcomes, keys, from, fetched);
    } finally {
      from?.release(local);
      // Fetched from a storage only to be checked (keep_local: false): not kept here.
      await dropFetchedRemote(request.db, fetched);
    }
  }
}

/** Verifies one backup (its copy in `from`'s storage, when given), then drills it when asked and it passed. */
async function verifyOne(
  request: VerifyRequest,
  events: RunEvents,
  { run, item: local, service }: Selected,
  outcomes: VerifyOutcome[],
  keys: DecryptionKeys,
  from: CopySource | undefined,
  fetched: string[],
): Promise<void> {
  let item = local;
  const encrypted = encryptedOf(item);
  // Without the key the host that made it can still prove the bytes are the ones it stored.
  const locked = encrypted && !haveKeysFor(encrypted, keys) ? `encrypted with ${encrypted.method} to ${encrypted.recipients.join(', ')}: give --identity FILE` : undefined;
  if (request.signal.aborted) return;
  const ctx = pluginContext(request, service.name, run.id);
  const base: Base = { runId: run.id, itemId: item.id, service: service.name, target: item.target, file: item.file! };
  const verified = await recorded(request, events, base, 'verify', async (checks) => {
    if (from) {
      const copy = await from.fetch(local);
      item = { ...local, file: copy.file };
      checks.push({ name: 'copy', ok: true, detail: `read from ${copy.storage} (${copy.key})` });
    } else fetched.push(...(await fetchMissing(request.db, request.config, [{ ...item, service: service.name }], request.log)));
    const actual = await checkArtifact({ file: item.file!, sha256: item.sha256, bytes: item.bytes });
    checks.push(
      { name: 'sha256', ok: true, detail: `${actual.bytes} bytes match the catalog` },
      await sumsCheck(local.file!, item.sha256, item.runId, from && (await from.sums(local))),
    );
    if (locked) return void checks.push({ name: 'format', ok: true, detail: `not checked: ${locked} to check it` });
    const source = sourceOf(item, request.signal, keys);
    if (service.plugin?.verify) checks.push(...(await service.plugin.verify(ctx, item.target, source)));
    else checks.push({ name: 'decompress', ok: true, detail: `${(await drain(source.open())).bytes} bytes read back` });
  });
  if (!verified) return;
  outcomes.push(verified);
  if (!request.restoreTest || !verified.ok) return;
  const drill = service.plugin?.restoreTest;
  if (!drill || locked) {
    const detail = locked ? `${locked} to drill it` : service.plugin ? `the ${service.name} service has no restore drill` : 'drop-in scripts have no restore drill';
    const checks = [{ name: 'restore-test', ok: true, detail: `skipped: ${detail}` }];
    outcomes.push({ ...base, kind: 'restore-test', ok: true, checks });
    events.emit({
      type: 'item-finished',
      kind: 'verify',
      check: 'restore-test',
      runId: base.runId,
      service: base.service,
      target: base.target,
      file: base.file,
      status: 'skipped',
      checks,
      seconds: 0,
    });
    return;
  }
  const drilled = await recorded(request, events, base, 'restore-test', async (checks) => {
    checks.push(...(await drill.call(service.plugin, ctx, item.target, sourceOf(item, request.signal, keys))));
  });
  if (drilled) outcomes.push(drilled);
}
