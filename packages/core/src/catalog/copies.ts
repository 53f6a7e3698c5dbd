/** The copies of items in other storages: written once confirmed, read by show, restore and prune. */
import { eq, inArray } from 'drizzle-orm';
import type { CatalogDb } from './db.js';
import { copies, items, runs, type CopyRow } from './schema.js';

export interface ConfirmedCopy {
  storage: string;
  key: string;
  bytes: number;
  sha256: string;
  copiedAt: string;
}

/** Records an item's confirmed copies. */
export function addCopies(db: CatalogDb, itemId: number, confirmed: readonly ConfirmedCopy[]): void {
  if (confirmed.length)
    db.insert(copies)
      .values(confirmed.map((c) => ({ ...c, itemId })))
      .run();
}

/** A copy with the host and start of the run that made it: what the storage's remote was expanded with. */
export type PlacedCopy = CopyRow & { service: string; host: string; runStartedAt: string };

/** The copies of the items `ids`, by item id, in the order they were made. */
export function copiesOf(db: CatalogDb, ids: readonly number[]): Map<number, PlacedCopy[]> {
  const out = new Map<number, PlacedCopy[]>();
  if (ids.length === 0) return out;
  const rows = db
    .select({ copy: copies, service: items.service, host: runs.host, runStartedAt: runs.startedAt })
    .from(copies)
    .innerJoin(items, eq(items.id, copies.itemId))
    .innerJoin(runs, eq(runs.id, items.runId))
    .where(inArray(copies.itemId, [...ids]))
    .orderBy(copies.id)
    .all();
  for (const { copy, service, host, runStartedAt } of rows) out.set(copy.itemId, [...(out.get(copy.itemId) ?? []), { ...copy, service, host, runStartedAt }]);
  return out;
}

/** Forgets one copy (its object is gone). */
export function dropCopy(db: CatalogDb, id: number): void {
  db.delete(copies).where(eq(copies.id, id)).run();
}

/** Whether the catalog records any copy in another storage. */
export function hasCopies(db: CatalogDb): boolean {
  return db.select({ id: copies.id }).from(copies).limit(1).get() !== undefined;
}
