/**
 * The catalog reads of a prune plan (retention/prune-plan.ts): every finished item of a service
 * + target as columns, or only what a plan that seeks needs (a few index seeks and ranges).
 */
import type { CatalogDb } from './db.js';

/**
 * A reader of one service + target's finished items not being pruned, from the `items_retention`
 * covering index in one pass. Returns [ids as a JSON array, started_ms as a JSON array, total
 * bytes, the failed or suspect ones only as a JSON array of [id, (status = 'ok') + 2 × (suspect), bytes]].
 */
export function retentionGroupReader(db: CatalogDb): (service: string, target: string) => [string, string, number, string] {
  // Two columns for every backup, and the rare failed or suspect ones picked out in the same scan.
  const columnsOf = db.$client
    .prepare(
      `select json_group_array(id), json_group_array(started_ms), coalesce(sum(bytes), 0),
        json_group_array(json_array(id, (status = 'ok') + 2 * (suspect is not null), bytes)) filter (where status <> 'ok' or suspect is not null)
      from items where service = ? and target = ? and prune_id is null and status <> 'running'`,
    )
    .raw();
  return (service, target) => columnsOf.get(service, target) as [string, string, number, string];
}

/**
 * The reads of a prune plan that seeks (retention/seek.ts) instead of reading every backup of a
 * service + target. Each is a seek or a short range scan of an index, and the totals are a row
 * that triggers keep (item_totals): no read goes through every item. Iterators stop where the
 * caller stops reading; none may be open while another statement runs.
 */
export function retentionSeeker(db: CatalogDb) {
  const client = db.$client;
  // Good: finished ok, not suspect, not being pruned. Newest first, the higher id first at one time.
  const good = client
    .prepare(
      `select id, started_ms from items where service = ? and target = ? and started_ms < ? and prune_id is null and status = 'ok' and suspect is null
      order by started_ms desc, id desc`,
    )
    .raw();
  const oldest = client.prepare('select min(started_ms) from items where service = ? and target = ?').pluck();
  const totals = client.prepare('select items, bytes from item_totals where service = ? and target = ?').raw();
  // Flags as retentionGroupReader's: (status = 'ok') + 2 × (suspect).
  const oddWhere = `from items indexed by items_odd
    where service = ? and target = ? and (status <> 'ok' or suspect is not null) and started_ms > ? and prune_id is null and status <> 'running'`;
  const odd = client.prepare(`select id, started_ms, (status = 'ok') + 2 * (suspect is not null), run_id, bytes ${oddWhere} order by started_ms desc, id desc`).raw();
  const suspect = client.prepare(`select id, started_ms, 3, run_id, bytes ${oddWhere} and status = 'ok' order by started_ms desc, id desc`).raw();
  const oddTotals = client
    .prepare(`select count(*), coalesce(sum(bytes), 0), coalesce(sum(status <> 'ok'), 0), coalesce(sum(case when status <> 'ok' then bytes end), 0) ${oddWhere}`)
    .raw();
  const newest = client
    .prepare(
      `select id, started_ms, (status = 'ok') + 2 * (suspect is not null) from items where service = ? and target = ? and prune_id is null and status <> 'running'
      order by started_ms desc, id desc`,
    )
    .raw();
  const bound = (ms: number): number => Math.min(ms, Number.MAX_SAFE_INTEGER);
  return {
    /** [id, started_ms] of good items older than `before` ms, newest first. */
    good: (service: string, target: string, before: number) => good.iterate(service, target, bound(before)) as IterableIterator<[number, number]>,
    /** The oldest item's started_ms, undefined for none. */
    oldest: (service: string, target: string) => (oldest.get(service, target) as number | null) ?? undefined,
    /** [count, bytes] of the finished items not being pruned. */
    totals: (service: string, target: string) => (totals.get(service, target) as [number, number] | undefined) ?? [0, 0],
    /** [id, started_ms, flags, run id, bytes] of the failed or suspect ones (only the suspect ones that did not fail: `failed` false) newer than `after` ms, newest first. */
    odd: (service: string, target: string, after: number, failed = true) =>
      (failed ? odd : suspect).iterate(service, target, after) as IterableIterator<[number, number, number, number, number | null]>,
    /** [count, bytes] of the failed or suspect ones newer than `after` ms, then of the failed ones among them. */
    oddTotals: (service: string, target: string, after: number) => oddTotals.get(service, target, after) as [number, number, number, number],
    /** [id, started_ms, flags] of every finished item not being pruned, newest first. */
    newest: (service: string, target: string) => newest.iterate(service, target) as IterableIterator<[number, number, number]>,
  };
}

/** [service, target, started_ms, flags as retentionGroupReader's, bytes] of these items if finished and not being pruned, by id. */
export function retentionFacts(db: CatalogDb, ids: readonly number[]): Map<number, [string, string, number, number, number | null]> {
  const out = new Map<number, [string, string, number, number, number | null]>();
  if (ids.length === 0) return out;
  const rows = db.$client
    .prepare(
      `select id, service, target, started_ms, (status = 'ok') + 2 * (suspect is not null), bytes from items
      where id in (select value from json_each(?)) and prune_id is null and status <> 'running'`,
    )
    .raw()
    .all(JSON.stringify(ids)) as [number, string, string, number, number, number | null][];
  for (const [id, ...facts] of rows) out.set(id, facts);
  return out;
}
