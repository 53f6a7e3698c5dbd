/**
 * `batt verify`: re-hash stored artifacts against the catalog and their folder's SHA256SUMS,
 * check each format for completeness (the plugin reads the decompressed stream: a dump trailer,
 * `pg_restore --list`, `redis-check-rdb`, a tar listing), and with `--restore-test` run a
 * restore drill. Every result is stored in the catalog.
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
import { sumLine } from '../manifest/manifest.js';
import { checkArtifact, drain } from './artifact.js';
import { artifactFolderOf } from '../destination/folders.js';
import { finishCheck, selectItems, sourceOf, startCheck, type ItemQuery } from './select.js';

export interface VerifyRequest extends ItemQuery {
  db: CatalogDb;
  home: HomeLayout;
  config: BattConfig;
  services: Service[];
  restoreTest: boolean;
  log: Logger;
  secrets: Set<string>;
  signal: AbortSignal;
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
async function sumsCheck(file: string, sha256: string | null, runId: number): Promise<Check> {
  const { folder, name } = artifactFolderOf(file, runId);
  const sums = join(folder, 'SHA256SUMS');
  const text = await readText(localStorage, sums);
  if (text === undefined) return { name: 'SHA256SUMS', ok: false, detail: `${sums} is missing` };
  const lines = text.split('\n');
  if (sha256 && lines.includes(sumLine(sha256, name))) return { name: 'SHA256SUMS', ok: true, detail: 'lists the same SHA-256' };
  return { name: 'SHA256SUMS', ok: false, detail: `${sums} has no matching line for ${name}` };
}

type Base = Omit<VerifyOutcome, 'kind' | 'ok' | 'checks' | 'error'>;

/** Runs one check of an item (its `work` adds to the list), records it in the catalog and logs the verdict. */
async function recorded(request: VerifyRequest, base: Base, kind: VerifyOutcome['kind'], work: (checks: Check[]) => Promise<void>): Promise<VerifyOutcome | undefined> {
  const checkId = startCheck(request.db, base.itemId, kind);
  if (checkId === undefined) {
    request.log.scoped(base.service).warn(`${base.target}: run ${base.runId}'s backup was pruned meanwhile: skipped`);
    return undefined;
  }
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
  const why =
    error ??
    checks
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.detail}`)
      .join('; ');
  request.log.scoped(base.service)[ok ? 'info' : 'error'](`${base.target}: ${kind === 'verify' ? 'verify' : 'restore drill'} ${ok ? 'ok' : `FAILED: ${why}`}`);
  return { ...base, kind, ok, checks, error };
}

export async function verifyItems(request: VerifyRequest): Promise<VerifyOutcome[]> {
  const outcomes: VerifyOutcome[] = [];
  for (const { run, item, service } of selectItems(request.db, request.services, request)) {
    if (request.signal.aborted) break;
    const ctx = pluginContext(request, service.name, run.id);
    const base: Base = { runId: run.id, itemId: item.id, service: service.name, target: item.target, file: item.file! };
    const verified = await recorded(request, base, 'verify', async (checks) => {
      const actual = await checkArtifact({ file: item.file!, sha256: item.sha256, bytes: item.bytes });
      checks.push({ name: 'sha256', ok: true, detail: `${actual.bytes} bytes match the catalog` }, await sumsCheck(item.file!, item.sha256, item.runId));
      const source = sourceOf(item, request.signal);
      if (service.plugin?.verify) checks.push(...(await service.plugin.verify(ctx, item.target, source)));
      else checks.push({ name: 'decompress', ok: true, detail: `${(await drain(source.open())).bytes} bytes read back` });
    });
    if (!verified) continue;
    outcomes.push(verified);
    if (!request.restoreTest || !verified.ok) continue;
    const drill = service.plugin?.restoreTest;
    if (!drill) {
      const detail = service.plugin ? `the ${service.name} service has no restore drill` : 'drop-in scripts have no restore drill';
      outcomes.push({ ...base, kind: 'restore-test', ok: true, checks: [{ name: 'restore-test', ok: true, detail: `skipped: ${detail}` }] });
      continue;
    }
    const drilled = await recorded(request, base, 'restore-test', async (checks) => {
      request.log.scoped(service.name).info(`${item.target}: restore drill`);
      checks.push(...(await drill.call(service.plugin, ctx, item.target, sourceOf(item, request.signal))));
    });
    if (drilled) outcomes.push(drilled);
  }
  return outcomes;
}
