/**
 * Reads and writes of the `items` table for retention, suspect marking, crash recovery, drop-in
 * scripts and the orphan scan. Where a caller asks row after row in a loop, the function
 * prepares its statement once and returns a function that asks.
 */
import { prepared } from './client.js';
import type { CatalogDb } from './db.js';
import { now } from './queries.js';
import type { ItemStatus } from './schema.js';

/**
 * Every (service, target) in the catalog, by skipping through the (service, target) index: one
 * seek per target instead of reading a million index entries. Returns them in index order.
 */
export function targetsOf(db: CatalogDb): [string, string][] {
  const client = db.$client;
  const nextTarget = client.prepare('select target from items where service = ? and target > ? order by service, target limit 1').pluck();
  const nextService = client.prepare('select service, target from items where service > ? order by service, target limit 1').raw();
  const out: [string, string][] = [];
  let row = client.prepare('select service, target from items order by service, target limit 1').raw().get() as [string, string] | undefined;
  while (row) {
    out.push(row);
    const [service, target] = row;
    const next = nextTarget.get(service, target) as string | undefined;
    row = next !== undefined ? [service, next] : (nextService.get(service) as [string, string] | undefined);
  }
  return out;
}

/** Run id and size of items, by id (for listings: the prune plan itself carries neither). Returns a map by item id; unknown ids are absent. */
export function itemDetails(db: CatalogDb, ids: readonly number[]): Map<number, { runId: number; bytes: number | null }> {
  const out = new Map<number, { runId: number; bytes: number | null }>();
  if (ids.length === 0) return out;
  // One statement for any number of ids, which go in as one JSON array; the narrow items_details
  // index answers it (SQLite would rather look each id up in the wide table rows).
  const rows = db.$client.prepare('select id, run_id, bytes from items indexed by items_details where id in (select value from json_each(?))').raw().all(JSON.stringify(ids)) as [
    number,
    number,
    number | null,
  ][];
  for (const [id, runId, bytes] of rows) out.set(id, { runId, bytes });
  return out;
}

/** Returns a reader of one item's [run id, file, bytes] by id, undefined when there is no such item. */
export function itemFileReader(db: CatalogDb): (id: number) => [number, string | null, number | null] | undefined {
  const row = db.$client.prepare('select run_id, file, bytes from items where id = ?').raw();
  return (id) => row.get(id) as [number, string | null, number | null] | undefined;
}

/** Returns a test of whether an item with this id is in the catalog. */
export function itemExists(db: CatalogDb): (id: number) => boolean {
  const still = db.$client.prepare('select 1 from items where id = ?').pluck();
  return (id) => Boolean(still.get(id));
}

/** Marks these items with a prune's id, skipping any already marked. Returns how many it marked. */
export function markItemsForPrune(db: CatalogDb, pruneId: number, ids: readonly number[]): number {
  const mark = db.$client.prepare('update items set prune_id = ? where id = ? and prune_id is null');
  let marked = 0;
  for (const id of ids) marked += mark.run(pruneId, id).changes;
  return marked;
}

/** Returns the items a prune marked, as [id, run id, file, bytes]. */
export function prunedItems(db: CatalogDb, pruneId: number): [number, number, string | null, number | null, local: number][] {
  return db.$client.prepare('select id, run_id, file, bytes, local from items where prune_id = ?').raw().all(pruneId) as [number, number, string | null, number | null, number][];
}

/** The items a prune marked, with their services (their copies go with them). */
export function prunedServices(db: CatalogDb, pruneId: number): { id: number; service: string }[] {
  return db.$client.prepare('select id, service from items where prune_id = ?').all(pruneId) as { id: number; service: string }[];
}

/** Returns a test of whether an item no prune has marked records this file. */
export function fileHeldByUnmarked(db: CatalogDb): (file: string) => boolean {
  const taken = db.$client.prepare('select 1 from items where file = ? and prune_id is null limit 1').pluck();
  return (file) => Boolean(taken.get(file));
}

/** Returns a test of whether any item records this file. */
export function fileInCatalog(db: CatalogDb): (file: string) => boolean {
  const known = db.$client.prepare('select 1 from items where file = ? limit 1').pluck();
  return (file) => Boolean(known.get(file));
}

/** Returns every file an item records, one at a time (the catalog may hold a million). */
export function* itemFiles(db: CatalogDb): Generator<string> {
  for (const [file] of db.$client.prepare('select file from items where file is not null').raw().iterate() as IterableIterator<[string]>) yield file;
}

/**
 * The previous good, unsuspected backups of a target, newest first: `limit` of those with an id
 * below `beforeId` and a size. Returns rows of [bytes, facts, accepted_at].
 */
export function baselineItems(db: CatalogDb, service: string, target: string, beforeId: number, limit: number): [number, string | null, string | null][] {
  return prepared(
    db,
    "select bytes, facts, accepted_at from items where service = ? and target = ? and status = 'ok' and suspect is null and id < ? and bytes is not null order by id desc limit ?",
  )
    .raw()
    .all(service, target, beforeId, limit) as [number, string | null, string | null][];
}

/** Records why an item looks wrong. Returns nothing. */
export function setSuspect(db: CatalogDb, id: number, reason: string): void {
  db.$client.prepare('update items set suspect = ? where id = ?').run(reason, id);
}

/** Returns a run's suspect items (only of `service` and `target` when given) as [id, service, target, suspect]. */
export function suspectItemsOf(db: CatalogDb, runId: number, service?: string, target?: string): [number, string, string, string][] {
  return db.$client
    .prepare('select id, service, target, suspect from items where run_id = ? and suspect is not null and (? is null or service = ?) and (? is null or target = ?)')
    .raw()
    .all(runId, service ?? null, service ?? null, target ?? null, target ?? null) as [number, string, string, string][];
}

/** Clears these items' suspect mark and records them accepted now (the new baseline). Returns nothing. */
export function acceptItems(db: CatalogDb, ids: readonly number[]): void {
  const accept = db.$client.prepare('update items set suspect = null, accepted_at = ? where id = ?');
  for (const id of ids) accept.run(new Date().toISOString(), id);
}

/** Sets an item's facts (JSON text). Returns nothing. */
export function setItemFacts(db: CatalogDb, id: number, facts: string): void {
  db.$client.prepare('update items set facts = ? where id = ?').run(facts, id);
}

/** Deletes one item's row. Returns nothing. */
export function deleteItem(db: CatalogDb, id: number): void {
  db.$client.prepare('delete from items where id = ?').run(id);
}

/** Closes an item that did not finish well (failed or aborted) now, with its error and log, and clears its facts. Returns nothing. */
export function failItem(db: CatalogDb, id: number, status: ItemStatus, error: string, log: string | null): void {
  db.$client.prepare('update items set status = ?, finished_at = ?, error = ?, log = ?, facts = null where id = ?').run(status, now(), error, log, id);
}

/** Returns a reader of a run's aborted items that have no file, as [id, service, target, facts]. */
export function abortedItemsOf(db: CatalogDb): (runId: number) => [number, string, string, string | null][] {
  const itemsOf = db.$client.prepare("select id, service, target, facts from items where run_id = ? and status = 'aborted' and file is null").raw();
  return (runId) => itemsOf.all(runId) as [number, string, string, string | null][];
}

/** What crash recovery takes back from a manifest for an aborted item. */
export interface AdoptedFile {
  file: string;
  bytes: number;
  sha256: string;
  compression: string | null;
  encryption: string | null;
  /** JSON list of the public keys, or null. */
  recipients: string | null;
  toolVersion: string | null;
  serverVersion: string | null;
  facts: string;
  finishedAt: string;
}

/** Takes an aborted item back as ok with the file its manifest recorded. Returns nothing. */
export function adoptItem(db: CatalogDb, id: number, a: AdoptedFile): void {
  db.$client
    .prepare(
      "update items set status = 'ok', file = ?, bytes = ?, sha256 = ?, compression = ?, encryption = ?, recipients = ?, tool_version = ?, server_version = ?, facts = ?, finished_at = ?, error = null where id = ?",
    )
    .run(a.file, a.bytes, a.sha256, a.compression, a.encryption, a.recipients, a.toolVersion, a.serverVersion, a.facts, a.finishedAt, id);
}
