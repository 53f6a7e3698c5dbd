/**
 * `batt restore`: plan, prove, then restore. The plan (what goes where, from which artifact,
 * made by which tool from which server) is shown first; every chosen artifact's SHA-256 is
 * checked against the catalog before any target is touched; an existing target is refused
 * unless --force or --replace. Each restore is recorded in the catalog with its checks.
 *
 * Longer than 200 lines because the order that keeps a target safe (claim, prove every artifact
 * and key, refuse or restore, record) is one sequence; the plan and scripts are beside it.
 */
import { join } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { BattConfig } from '../config/load.js';
import { BattError, describeError } from '../errors/errors.js';
import { type HomeLayout } from '../home/home.js';
import type { Service } from '../plugins/discovery.js';
import { pluginContext, type Check } from '../plugins/types.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/logger.js';
import { RunEvents, runStatusOf } from '../events/events.js';
import { logEvents } from '../events/log-subscriber.js';
import { checkArtifact } from './artifact.js';
import { dropFetchedRemote, fetchMissing, type FetchedItem } from '../copies/fetch.js';
import { copySource, type FetchedCopy } from '../copies/from.js';
import { encryptedOf, haveKeysFor, needIdentity, probeDecryption, readAgeIdentities, type DecryptionKeys } from './decrypt.js';
import { plan, restoreScriptOf, type PlannedRestore } from './plan.js';
import { restoreWithScript } from './restore-script.js';
import { dropCheck, finishCheck, selectItems, sourceOf, startCheck, type ItemQuery, type Selected } from './select.js';

export interface RestoreRequest extends ItemQuery {
  db: CatalogDb;
  home: HomeLayout;
  config: BattConfig;
  services: Service[];
  /** --into: a database name, or host:port for redis. */
  into?: string;
  /** --to: a folder, for files and scripts. */
  to?: string;
  /** --identity: an age identity file, for artifacts encrypted with age. */
  identityFile?: string;
  /** --from: read every artifact from its copy in this storage (docs/storage.md), even when the local file is there. */
  from?: string;
  force: boolean;
  replace: boolean;
  dryRun: boolean;
  jobs: number;
  log: Logger;
  secrets: Set<string>;
  signal: AbortSignal;
  /** Shown the plan once everything is looked at and checksummed, before anything changes. */
  onPlan(plan: PlannedRestore[]): void;
  /** The run's events (events/events.ts): the log is subscribed here; callers may subscribe more. A dry run has none. */
  events?: RunEvents;
}

export interface RestoreOutcome extends PlannedRestore {
  status: 'ok' | 'failed' | 'planned';
  checks: Check[];
  error?: string;
}

const fetchable = (p: PlannedRestore): FetchedItem => ({ id: p.itemId, service: p.service, file: p.file, bytes: p.bytes, sha256: p.sha256 });

export async function restoreItems(request: RestoreRequest): Promise<RestoreOutcome[]> {
  const selected = selectItems(request.db, request.services, request);
  const keys: DecryptionKeys = request.identityFile ? { ageIdentities: await readAgeIdentities(request.identityFile) } : {};
  for (const identity of keys.ageIdentities ?? []) request.secrets.add(identity);
  const wanted = await plan(request, selected);
  if (request.from === undefined) return restorePlanned(request, selected, wanted, keys);
  // --from: every artifact is fetched from that storage into a private scratch folder and proven
  // against the catalog first; the restore reads those files, the plan and results name the copy.
  const source = copySource(
    request.db,
    request.config,
    request.home.root,
    request.from,
    selected.map(({ item }) => ({ ...item, file: item.file! })),
    request.log,
  );
  try {
    const fetched = new Map<number, FetchedCopy>();
    for (const { item } of selected) fetched.set(item.id, await source.fetch(item));
    const chosen = selected.map((s) => ({ ...s, item: { ...s.item, file: fetched.get(s.item.id)!.file } }));
    const planned = wanted.map((p) => ({ ...p, file: fetched.get(p.itemId)!.file }));
    const shown = <T extends PlannedRestore>(p: T): T => {
      const { storage, key } = fetched.get(p.itemId)!;
      return { ...p, file: wanted.find((w) => w.itemId === p.itemId)!.file, from: { storage, key } };
    };
    const outcomes = await restorePlanned({ ...request, onPlan: (list) => request.onPlan(list.map(shown)) }, chosen, planned, keys);
    return outcomes.map(shown);
  } finally {
    source.dispose();
  }
}

async function restorePlanned(request: RestoreRequest, chosen: Selected[], planned: PlannedRestore[], keys: DecryptionKeys): Promise<RestoreOutcome[]> {
  if (request.dryRun) {
    return withArtifacts(request, planned, async () => {
      await proveAll(request, chosen, planned, keys);
      request.onPlan(planned);
      return planned.map((p) => ({ ...p, status: 'planned' as const, checks: [{ name: 'sha256', ok: true, detail: 'matches the catalog' }] }));
    });
  }
  // Each item is claimed with a running `restore` row first, so a prune leaves it alone.
  const claims = new Map<number, number>();
  const settle = (itemId: number, result: Parameters<typeof finishCheck>[2]): void => {
    const id = claims.get(itemId);
    if (id !== undefined) finishCheck(request.db, id, result);
    claims.delete(itemId);
  };
  try {
    for (const p of planned) {
      const id = startCheck(request.db, p.itemId, 'restore', p.into);
      if (id === undefined) throw new BattError('NOT_FOUND', `run ${p.runId}'s backup of ${p.service} ${p.target} is being pruned`, { hint: 'pick another run from `batt runs`' });
      claims.set(p.itemId, id);
    }
    const events = request.events ?? new RunEvents(request.log);
    const unsubscribe = logEvents(events, request.log);
    let outcomes: RestoreOutcome[];
    try {
      outcomes = await withArtifacts(request, planned, async () => {
        await proveAll(request, chosen, planned, keys);
        return restoreProven(request, chosen, planned, settle, events, keys);
      });
    } finally {
      unsubscribe();
    }
    for (const itemId of [...claims.keys()]) settle(itemId, { ok: false, checks: [], error: 'not restored: batt was interrupted' });
    return outcomes;
  } catch (error) {
    // A refusal (the target exists, no --force) restored nothing and failed nothing: no check is recorded.
    if ((error as { refused?: boolean }).refused) for (const id of claims.values()) dropCheck(request.db, id);
    else {
      const message = redact(describeError(error), request.secrets);
      for (const itemId of [...claims.keys()]) settle(itemId, { ok: false, checks: [], error: message });
    }
    throw error;
  }
}

/** What to do about an existing target, naming only flags that work for that service. */
const existsHints: Record<string, string> = {
  mysql: 'mysql: restore into a new database with --into NAME, pass --force to replace it, or --replace to swap in a checked copy',
  postgresql: 'postgresql: restore into a new database with --into NAME, pass --force to replace it, or --replace to swap in a checked copy',
  redis: 'redis: restore into another server with --into host:port, or pass --force to replace the data of this one',
  mongodb: 'mongodb: restore into a new database with --into NAME, or pass --force to replace it',
  file: 'file: restore into another folder with --to DIR, or pass --force to overwrite the files',
  default: 'restore under a new name with --into, or pass --force to replace it',
};

type Settle = (itemId: number, result: { ok: boolean; target?: string; checks: Check[]; error?: string }) => void;

/**
 * Each encrypted artifact is decrypted far enough to prove the key works (age's header, gpg's
 * first bytes): a missing or wrong key refuses the restore, naming the recipients, before any
 * target is touched.
 */
async function proveKeys(request: RestoreRequest, chosen: Selected[], planned: PlannedRestore[], keys: DecryptionKeys): Promise<void> {
  for (const p of planned) {
    const item = chosen.find((c) => c.item.id === p.itemId)?.item;
    const encrypted = item && p.action !== 'script' ? encryptedOf(item) : undefined;
    if (!item || !encrypted) continue;
    try {
      if (!haveKeysFor(encrypted, keys)) throw needIdentity(p.file, encrypted);
      await probeDecryption(() => sourceOf(item, request.signal, keys).open());
    } catch (error) {
      throw Object.assign(error as Error, { refused: true });
    }
  }
}

/**
 * Runs `work` with every planned artifact present here: a local file that is gone is fetched back
 * from a copy first, and removed again afterwards if it was never kept here (keep_local: false).
 */
async function withArtifacts<T>(request: RestoreRequest, planned: PlannedRestore[], work: () => Promise<T>): Promise<T> {
  const fetched = await fetchMissing(request.db, request.config, planned.map(fetchable), request.log);
  try {
    return await work();
  } finally {
    await dropFetchedRemote(request.db, fetched);
  }
}

/** Every artifact's SHA-256, then every key, proven before any target is touched. */
async function proveAll(request: RestoreRequest, chosen: Selected[], planned: PlannedRestore[], keys: DecryptionKeys): Promise<void> {
  for (const p of planned) await checkArtifact({ file: p.file, sha256: p.sha256, bytes: p.bytes });
  await proveKeys(request, chosen, planned, keys);
}

async function restoreProven(
  request: RestoreRequest,
  chosen: Selected[],
  planned: PlannedRestore[],
  settle: Settle,
  events: RunEvents,
  keys: DecryptionKeys,
): Promise<RestoreOutcome[]> {
  request.onPlan(planned);
  const blocked = planned.filter((p) => p.action === 'replace' && !request.force);
  if (blocked.length) {
    const services = new Set(blocked.map((p) => p.service));
    throw Object.assign(
      new BattError('USAGE', `${blocked.map((p) => p.label).join(', ')} already exist${blocked.length === 1 ? 's' : ''}: batt never restores over existing data unless told to`, {
        hint: [...services].map((s) => existsHints[s] ?? existsHints.default).join('; '),
      }),
      { refused: true },
    );
  }

  events.emit({ type: 'run-started', kind: 'restore', at: new Date().toISOString(), services: [...new Set(planned.map((p) => p.service))] });
  const outcomes: RestoreOutcome[] = [];
  const failed = (): number => outcomes.filter((o) => o.status === 'failed').length;
  try {
    await restoreEach(request, chosen, planned, settle, events, outcomes, keys);
  } catch (error) {
    events.emit({ type: 'run-finished', kind: 'restore', status: 'failed', at: new Date().toISOString(), ok: outcomes.length - failed(), failed: failed() });
    throw error;
  }
  const status = runStatusOf(outcomes.length - failed(), failed(), request.signal.aborted);
  events.emit({ type: 'run-finished', kind: 'restore', status, at: new Date().toISOString(), ok: outcomes.length - failed(), failed: failed() });
  return outcomes;
}

/** Restores the planned items one by one, then each drop-in's items with its restore script, adding to `outcomes`. */
async function restoreEach(
  request: RestoreRequest,
  chosen: Selected[],
  planned: PlannedRestore[],
  settle: Settle,
  events: RunEvents,
  outcomes: RestoreOutcome[],
  keys: DecryptionKeys,
): Promise<void> {
  const scripts = new Map<string, PlannedRestore[]>();
  for (const p of planned) {
    if (p.action === 'script') {
      scripts.set(p.service, [...(scripts.get(p.service) ?? []), p]);
      continue;
    }
    const { item, service } = chosen.find((c) => c.item.id === p.itemId)!;
    if (request.signal.aborted) break;
    const about = { kind: 'restore', runId: p.runId, service: service.name, target: p.target, into: p.label } as const;
    const started = Date.now();
    events.emit({ type: 'item-started', ...about, action: p.action, at: new Date(started).toISOString() });
    try {
      const checks = await service.plugin!.restore!(pluginContext(request, service.name, p.runId), item.target, sourceOf(item, request.signal, keys), {
        into: p.into,
        force: request.force,
        replace: request.replace,
        jobs: request.jobs,
      });
      settle(item.id, { ok: true, checks });
      outcomes.push({ ...p, status: 'ok', checks });
      events.emit({ type: 'item-finished', ...about, status: 'ok', checks, seconds: (Date.now() - started) / 1000 });
    } catch (error) {
      const message = redact(describeError(error), request.secrets);
      const checks = (error as { checks?: Check[] }).checks ?? [];
      settle(item.id, { ok: false, checks, error: message });
      outcomes.push({ ...p, status: 'failed', checks, error: message });
      events.emit({ type: 'item-finished', ...about, status: 'failed', checks, error: message, seconds: (Date.now() - started) / 1000 });
    }
  }
  for (const [name, group] of scripts) {
    const service = request.services.find((s) => s.name === name)!;
    const script = restoreScriptOf(request.home, service) ?? join(request.home.available, `restore-${name}`);
    const about = { kind: 'restore', runId: group[0].runId, service: name, target: request.targets?.join(' ') || '*', into: group[0].label, script } as const;
    const started = Date.now();
    events.emit({ type: 'item-started', ...about, action: 'script', at: new Date(started).toISOString() });
    try {
      const { checks } = await restoreWithScript(request, service, group);
      for (const p of group) settle(p.itemId, { ok: true, checks });
      outcomes.push(...group.map((p) => ({ ...p, status: 'ok' as const, checks })));
      events.emit({ type: 'item-finished', ...about, status: 'ok', checks, seconds: (Date.now() - started) / 1000 });
    } catch (error) {
      const log = (error as { log?: string }).log;
      const message = redact(describeError(error), request.secrets) + (log ? ` (${log.split('\n').slice(-3).join(' | ')})` : '');
      for (const p of group) settle(p.itemId, { ok: false, checks: [], error: message });
      outcomes.push(...group.map((p) => ({ ...p, status: 'failed' as const, checks: [], error: message })));
      events.emit({ type: 'item-finished', ...about, status: 'failed', checks: [], error: message, seconds: (Date.now() - started) / 1000 });
    }
  }
}
