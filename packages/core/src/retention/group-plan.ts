/**
 * A prune plan of one service + target, and the plan made by reading every backup of it into
 * columns and walking them with the policy (policy.ts): what seek-group.ts falls back to.
 */
import { type CatalogDb } from '../catalog/db.js';
import { itemDetails } from '../catalog/items.js';
import { retentionGroupReader } from '../catalog/retention.js';
import { BACKUP_KINDS, NEWER_BY_KIND, planGroup, type BackupKind, type GroupPlan, type KeepRules } from './policy.js';

/** One backup's decision, as a listing shows it. */
export interface Decision {
  id: number;
  time: number;
  kind: BackupKind;
  keep: boolean;
  reasons: string[];
  /** Its run and size, where the plan read them. */
  runId?: number;
  bytes?: number | null;
}

/** Every backup of a group as columns by index (as the policy's `planGroup` takes them), and the plan of each. */
export interface GroupColumnsPlan extends GroupPlan {
  ids: number[];
  times: number[];
  kinds: Uint8Array;
}

/** The plan for one service + target. */
export interface PlannedGroup {
  service: string;
  target: string;
  /** How many backups are kept and removed, and their bytes. */
  kept: number;
  removed: number;
  keptBytes: number;
  removedBytes: number;
  /** Every backup of the group as columns, oldest first: read on first use (a dry run's summary never reads them). */
  columns(): GroupColumnsPlan;
  /** Failed backups kept only for being newer than the oldest kept one (a listing folds them into a line): how many, and their bytes. */
  keptFailed: { count: number; bytes: number };
  /** Newest first: every kept backup (without the failed ones of keptFailed if `failed` is false) and the newest `shown` removed ones (Infinity: all). */
  newest(shown: number, failed?: boolean): Decision[];
}

/** The kind of backup `i` of a group, and why it is kept or removed. */
export function decisionOf(g: GroupColumnsPlan, i: number): { kind: BackupKind; keep: boolean; reasons: string[] } {
  const keep = g.keep[i] === 1;
  return { kind: BACKUP_KINDS[g.kinds[i]], keep, reasons: keep ? (g.reasons.get(i) ?? []) : [g.removedReason[g.kinds[i]]] };
}

/** A lookup of an id's index in `ids` (-1 when absent): a binary search when they ascend, as the catalog's usually do, else a Map. */
export function indexOf(ids: readonly number[]): (id: number) => number {
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] <= ids[i - 1]) {
      const at = new Map(ids.map((id, j) => [id, j]));
      return (id) => at.get(id) ?? -1;
    }
  }
  return (id) => {
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid] < id) lo = mid + 1;
      else if (ids[mid] > id) hi = mid - 1;
      else return mid;
    }
    return -1;
  };
}

export interface CheckStates {
  holds: Map<number, string>;
  /** The last verdict of each checked item: read on first use. */
  verdicts: () => Map<number, string>;
  /** Items whose last verify or drill failed. */
  failed: Set<number>;
  reader: ReturnType<typeof retentionGroupReader>;
}

/** Kind number (an index into BACKUP_KINDS: 0 good, 1 failed, 2 suspect) of a finished item from its flags and verdict. */
export const kindOf = (id: number, flags: number, failed: Set<number>): number => (!(flags & 1) || failed.has(id) ? 1 : flags & 2 ? 2 : 0);

/** Every backup of a group as columns, oldest first, with their kinds and holds; the group's total bytes; odd: failed or suspect ones by id → [flags, bytes]. */
export function readColumns(states: CheckStates, service: string, target: string, verifiedOnly: boolean) {
  const [idsJson, timesJson, totalBytes, oddJson] = states.reader(service, target);
  const ids = JSON.parse(idsJson) as number[];
  const times = JSON.parse(timesJson) as number[];
  const odd = new Map((JSON.parse(oddJson) as [number, number, number | null][]).map(([id, flags, bytes]) => [id, [flags, bytes ?? 0] as const]));
  // Kind numbers index BACKUP_KINDS: 0 good, 1 failed, 2 suspect, 3 unverified.
  const kinds = new Uint8Array(ids.length);
  const held = new Map<number, string>();
  const verdicts = verifiedOnly ? states.verdicts() : undefined;
  const classify = (i: number): void => {
    kinds[i] = kindOf(ids[i], odd.get(ids[i])?.[0] ?? 1, states.failed);
    if (verifiedOnly && kinds[i] === 0 && verdicts?.get(ids[i]) !== 'ok') kinds[i] = 3;
    const hold = states.holds.get(ids[i]);
    if (hold) held.set(i, hold);
  };
  if (verifiedOnly) {
    for (let i = 0; i < ids.length; i++) classify(i);
  } else {
    // Only failed or suspect items, failed verdicts and holds make a backup other than good:
    // look those few up instead of every backup in the Maps.
    const at = indexOf(ids);
    const touched: number[] = [];
    for (const id of [...odd.keys(), ...states.failed, ...states.holds.keys()]) {
      const i = at(id);
      if (i >= 0) touched.push(i);
    }
    for (const i of touched.sort((a, b) => a - b)) classify(i);
  }
  return { ids, times, kinds, held, odd, totalBytes, at: indexOf(ids) };
}

/** Plans a group by reading every backup into columns and walking them (policy.ts); undefined for a group with no backup. */
export function walkGroup(db: CatalogDb, now: Date, states: CheckStates, service: string, target: string, rules: KeepRules, verifiedOnly: boolean): PlannedGroup | undefined {
  const { ids, times, kinds, held, odd, totalBytes } = readColumns(states, service, target, verifiedOnly);
  if (ids.length === 0) return undefined;
  const columns: GroupColumnsPlan = { ...planGroup({ ids, times, kinds, holds: held }, rules, now), ids, times, kinds };
  // Most kept backups are failed or suspect ones, whose sizes came with them: look up the rest.
  const lookUp: number[] = [];
  for (let i = 0; i < ids.length; i++) if (columns.keep[i] === 1 && !odd.has(ids[i])) lookUp.push(ids[i]);
  const details = itemDetails(db, lookUp);
  const bytesOf = (i: number): number => odd.get(ids[i])?.[1] ?? details.get(ids[i])?.bytes ?? 0;
  let kept = 0;
  let keptBytes = 0;
  const keptFailed = { count: 0, bytes: 0 };
  for (let i = 0; i < ids.length; i++) {
    if (columns.keep[i] === 0) continue;
    kept++;
    keptBytes += bytesOf(i);
    if (onlyNewer(columns, i)) {
      keptFailed.count++;
      keptFailed.bytes += bytesOf(i);
    }
  }
  return {
    service,
    target,
    kept,
    removed: ids.length - kept,
    keptBytes,
    removedBytes: totalBytes - keptBytes,
    keptFailed,
    columns: () => columns,
    newest: (shown, failed = true) => newestOf(columns, shown, failed),
  };
}

/** A failed backup kept for the one reason of being newer than the oldest kept backup. */
export const onlyNewerReason = (reasons: readonly string[] | undefined): boolean => reasons?.length === 1 && reasons[0] === NEWER_BY_KIND[1];
const onlyNewer = (g: GroupColumnsPlan, i: number): boolean => g.kinds[i] === 1 && onlyNewerReason(g.reasons.get(i));

/** Newest first: every kept backup of the columns (without those of keptFailed unless `failed`) and the first `shown` removed ones. */
function newestOf(g: GroupColumnsPlan, shown: number, failed: boolean): Decision[] {
  // The catalog hands backups over oldest first, so walking backwards is enough; a sort is the fallback.
  const n = g.ids.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = g.times[i] > g.times[i - 1] || (g.times[i] === g.times[i - 1] && g.ids[i] > g.ids[i - 1]);
  const order = ascending ? undefined : Array.from({ length: n }, (_, i) => i).sort((a, b) => g.times[b] - g.times[a] || g.ids[b] - g.ids[a]);
  const listed: Decision[] = [];
  let removed = 0;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k] : n - 1 - k;
    if (g.keep[i] === 1 ? failed || !onlyNewer(g, i) : removed++ < shown) listed.push({ id: g.ids[i], time: g.times[i], ...decisionOf(g, i) });
  }
  return listed;
}
