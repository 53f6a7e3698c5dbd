/**
 * What restore and verify work on: catalogued items that finished ok and have a file, chosen by
 * run (`latest`, an id, every run, or runs since a date), service and target; and the catalog
 * rows that record what a check or restore found.
 */
import { resolve } from 'node:path';
import { and, desc, eq, gte, inArray, isNotNull, isNull } from 'drizzle-orm';
import type { CatalogDb } from '../catalog/db.js';
import { now } from '../catalog/queries.js';
import { checks, items, runs, type CheckKind, type ItemRow, type RunRow } from '../catalog/schema.js';
import { BattError } from '../errors/errors.js';
import type { Service } from '../plugins/discovery.js';
import { findService } from '../plugins/discovery.js';
import type { Check, RestoreSource } from '../plugins/types.js';
import { compressionOf, openArtifact } from './artifact.js';
import { encryptedOf, type DecryptionKeys } from './decrypt.js';
import { insideRoots } from '../destination/folders.js';

export interface Selected {
  run: RunRow;
  item: ItemRow;
  service: Service;
}

export interface ItemQuery {
  /** A run id, `latest`, or undefined with `all`/`since`. */
  ref?: string;
  all?: boolean;
  since?: Date;
  service?: string;
  targets?: readonly string[];
  /** The backup folders this home knows: a catalog path outside them is refused. */
  roots?: readonly string[];
}

/** `7d`, `12h`, `2w` or an ISO date/time → a Date; undefined when it is neither. */
export function parseSince(text: string, clock = new Date()): Date | undefined {
  const rel = /^(\d+)\s*([hdw])$/i.exec(text.trim());
  if (rel) return new Date(clock.getTime() - Number(rel[1]) * { h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2].toLowerCase() as 'h' | 'd' | 'w']);
  const date = new Date(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** A target as the catalog stores it: a path target (plugin.targetsArePaths) is absolute, so `./docs` means the same folder. */
export function catalogTarget(service: Pick<Service, 'plugin'> | undefined, target: string): string {
  return service?.plugin?.targetsArePaths ? resolve(target) : target;
}

/** The ok items with a file that match; throws NOT_FOUND with a hint when none do. */
export function selectItems(db: CatalogDb, services: readonly Service[], query: ItemQuery): Selected[] {
  const service = query.service ? findService(services, query.service) : undefined;
  const conditions = [eq(items.status, 'ok'), isNotNull(items.file), isNull(items.pruneId)];
  if (service) conditions.push(eq(items.service, service.name));
  const targets = query.targets?.map((t) => catalogTarget(service, t));
  if (targets?.length) conditions.push(inArray(items.target, targets));
  const ref = query.ref ?? (query.all || query.since ? undefined : 'latest');
  if (ref !== undefined && ref !== 'latest') {
    if (!/^\d+$/.test(ref)) throw new BattError('USAGE', `"${ref}" is not a run id`, { hint: 'give a run id from `batt runs`, or `latest`' });
    conditions.push(eq(items.runId, Number(ref)));
  }
  if (query.since) conditions.push(gte(runs.startedAt, query.since.toISOString()));
  let rows = db
    .select({ run: runs, item: items })
    .from(items)
    .innerJoin(runs, eq(runs.id, items.runId))
    .where(and(...conditions))
    .orderBy(desc(items.runId), items.id)
    .all();
  // `latest` is the newest run that holds a matching backup, not just the newest run.
  if (ref === 'latest' && rows.length) rows = rows.filter((r) => r.run.id === rows[0].run.id);
  if (rows.length === 0) {
    const what = [service ? `${service.name} ` : '', targets?.length ? `(${targets.join(', ')}) ` : ''].join('');
    const where = ref === 'latest' ? 'in any run' : ref ? `in run ${ref}` : query.since ? `since ${query.since.toISOString()}` : 'in the catalog';
    throw new BattError('NOT_FOUND', `no good ${what}backup ${where}`.replace(/\s+/g, ' '), { hint: '`batt runs` and `batt show <run>` list what there is' });
  }
  return rows.map(({ run, item }) => {
    if (query.roots && !insideRoots(item.file!, query.roots)) {
      throw new BattError(
        'INTEGRITY',
        `run ${run.id}'s ${item.service} backup of ${item.target} names ${item.file}, which is outside the backup folders this home knows (${query.roots.join(', ')}): batt does not read it on the catalog's word`,
        {
          hint: 'the catalog was changed, or rebuilt from a manifest that was; `batt catalog check` shows what else is off. If you trust that file, restore it by hand',
        },
      );
    }
    const svc = services.find((s) => s.name === item.service);
    if (!svc)
      throw new BattError('NOT_FOUND', `run ${run.id} holds a backup of "${item.service}", which is no longer a known service`, {
        hint: 'restore its file by hand, or put its script back into scripts-available/',
      });
    return { run, item, service: svc };
  });
}

/** The artifact of an item as a restore source: each open() decrypts (with `keys`) and decompresses it again. */
export function sourceOf(item: ItemRow, signal?: AbortSignal, keys: DecryptionKeys = {}): RestoreSource {
  const compression = compressionOf(item.file!, item.compression);
  const encrypted = encryptedOf(item);
  return {
    open: () => openArtifact(item.file!, compression, signal, encrypted && { encrypted, keys }),
    facts: item.facts ? (JSON.parse(item.facts) as Record<string, unknown>) : {},
    itemId: item.id,
  };
}

/**
 * Claims an item for a check, restore drill or restore: a `running` row with this process's pid,
 * which prune respects. Returns undefined when the item is gone or being pruned.
 */
export function startCheck(db: CatalogDb, itemId: number, kind: CheckKind, target?: string): number | undefined {
  return db.transaction(
    (tx) => {
      const item = tx
        .select({ id: items.id })
        .from(items)
        .where(and(eq(items.id, itemId), isNull(items.pruneId)))
        .get();
      if (!item) return undefined;
      return tx
        .insert(checks)
        .values({ itemId, kind, startedAt: now(), status: 'running', target: target ?? null, pid: process.pid })
        .returning({ id: checks.id })
        .get().id;
    },
    { behavior: 'immediate' },
  );
}

/** Records what a started check found. */
export function finishCheck(db: CatalogDb, checkId: number, result: { ok: boolean; target?: string; checks: Check[]; error?: string }): void {
  db.update(checks)
    .set({
      finishedAt: now(),
      status: result.ok ? 'ok' : 'failed',
      ...(result.target !== undefined ? { target: result.target } : {}),
      details: JSON.stringify(result.checks),
      error: result.error ?? null,
    })
    .where(eq(checks.id, checkId))
    .run();
}

/** Forgets a claim that came to nothing (a refused restore). */
export function dropCheck(db: CatalogDb, checkId: number): void {
  db.delete(checks).where(eq(checks.id, checkId)).run();
}

/** Checks recorded for items, newest first. */
export function checksOf(db: CatalogDb, itemIds: readonly number[]): (typeof checks.$inferSelect)[] {
  if (itemIds.length === 0) return [];
  return db
    .select()
    .from(checks)
    .where(inArray(checks.itemId, [...itemIds]))
    .orderBy(desc(checks.id))
    .all();
}

/** Throws an INTEGRITY error naming the failed checks, if any failed. */
export function assertChecks(what: string, list: readonly Check[]): Check[] {
  const failed = list.filter((c) => !c.ok);
  if (failed.length) {
    throw Object.assign(new BattError('INTEGRITY', `${what}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`), { checks: list });
  }
  return [...list];
}

/** "1 table", "3 tables": a count with its noun (regular plurals only). */
export const counted = (n: number, noun: string): string => `${n} ${n === 1 ? noun : `${noun}s`}`;

/**
 * Compares counts (rows per table, keys per database) with those recorded at backup time.
 * `units` names what is counted: the groups (tables) and what is in them (rows).
 */
export function compareCounts(
  name: string,
  expected: Record<string, number> | undefined,
  actual: Record<string, number>,
  units: { group: string; unit: string } = { group: 'table', unit: 'row' },
): Check {
  if (!expected) return { name, ok: true, detail: 'no counts were recorded at backup time' };
  const diffs = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
    .filter((k) => (expected[k] ?? 0) !== (actual[k] ?? 0))
    .map((k) => `${k}: ${actual[k] ?? 'missing'} (backup ${expected[k] ?? 'none'})`);
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  return diffs.length
    ? { name, ok: false, detail: `${counted(diffs.length, units.group)} differ: ${diffs.slice(0, 5).join(', ')}${diffs.length > 5 ? ', …' : ''}` }
    : { name, ok: true, detail: `${counted(Object.keys(expected).length, units.group)} match, ${counted(total, units.unit)} in all` };
}
