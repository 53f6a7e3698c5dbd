/** The copies of items in other storages: written once confirmed, read by show, restore and prune. */
import { eq, inArray } from 'drizzle-orm';
import type { CatalogDb } from './db.js';
import { copies, type CopyRow } from './schema.js';

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

/** The copies of the items `ids`, by item id, in the order they were made. */
export function copiesOf(db: CatalogDb, ids: readonly number[]): Map<number, CopyRow[]> {
  const out = new Map<number, CopyRow[]>();
  if (ids.length === 0) return out;
  for (const row of db
    .select()
    .from(copies)
    .where(inArray(copies.itemId, [...ids]))
    .orderBy(copies.id)
    .all()) {
    out.set(row.itemId, [...(out.get(row.itemId) ?? []), row]);
  }
  return out;
}

/** Forgets one copy (its object is gone). */
export function dropCopy(db: CatalogDb, id: number): void {
  db.delete(copies).where(eq(copies.id, id)).run();
}
