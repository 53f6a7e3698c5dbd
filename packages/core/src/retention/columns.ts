/**
 * Backups as columns for the retention planner (policy.ts): grouped by target, copied into typed
 * arrays, good ones picked out and sorted newest first. Plain loops over typed arrays: a catalog of
 * a million backups plans in well under a second.
 */
import type { RetentionBackup } from './policy.js';

const GOOD = 0; // BACKUP_KINDS.indexOf('good')
const MAX_TIME = 8.64e15; // the largest epoch ms a Date holds
/** Up to this many groups, a linear search finds a backup's group faster than a Map. */
const FEW_GROUPS = 16;

/** Group number of each backup (numbered in order of first appearance), and backups per group. */
export function groupBackups(backups: readonly RetentionBackup[]): { groupOf: Int32Array; sizes: number[] } {
  const groupOf = new Int32Array(backups.length);
  const sizes: number[] = [];
  const names: string[] = [];
  const ids = new Map<string, number>();
  let prevName: string | undefined;
  let prevId = -1;
  for (let i = 0; i < backups.length; i++) {
    const b = backups[i];
    if (!(Math.abs(b.time) <= MAX_TIME)) throw new Error(`backup ${b.id}: time ${b.time} is not a date`);
    if (b.group !== prevName) {
      // Group strings are usually built per row, so each is a new string: with few groups,
      // comparing with each name is cheaper than hashing a million strings for the Map.
      prevName = b.group;
      prevId = -1;
      if (names.length <= FEW_GROUPS) {
        for (let g = 0; g < names.length && prevId < 0; g++) if (names[g] === prevName) prevId = g;
      } else {
        prevId = ids.get(prevName) ?? -1;
      }
      if (prevId < 0) {
        prevId = names.length;
        names.push(prevName);
        ids.set(prevName, prevId);
        sizes.push(0);
      }
    }
    groupOf[i] = prevId;
    sizes[prevId]++;
  }
  return { groupOf, sizes };
}

export interface FilledColumns {
  ids: Float64Array;
  times: Float64Array;
  kinds: Uint8Array;
  holds: Map<number, string> | undefined;
}

/** Copies each backup into its group's columns, in input order. */
export function fillColumns(backups: readonly RetentionBackup[], groupOf: Int32Array, columns: FilledColumns[], localOf: Int32Array): void {
  const filled = new Int32Array(columns.length);
  for (let i = 0; i < backups.length; i++) {
    const b = backups[i];
    const c = columns[groupOf[i]];
    const j = filled[groupOf[i]]++;
    localOf[i] = j;
    c.ids[j] = b.id;
    c.times[j] = b.time;
    c.kinds[j] = kindNumber(b);
    if (b.hold) (c.holds ??= new Map()).set(j, b.hold);
  }
}

export function kindNumber(b: RetentionBackup): number {
  const kind = b.kind;
  if (kind === 'good') return 0;
  if (kind === 'failed') return 1;
  if (kind === 'suspect') return 2;
  if (kind === 'unverified') return 3;
  throw new Error(`backup ${b.id}: unknown kind ${String(kind)}`);
}

export function countGood(kinds: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === GOOD) count++;
  return count;
}

export function fillGood(times: ArrayLike<number>, kinds: ArrayLike<number>, good: Int32Array, goodTimes: Float64Array): void {
  let k = 0;
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] !== GOOD) continue;
    good[k] = i;
    goodTimes[k++] = times[i];
  }
}

/** Newest first, ties by higher id first, so the plan does not depend on input order. */
export function sortNewestFirst(ids: ArrayLike<number>, times: ArrayLike<number>, good: Int32Array, goodTimes: Float64Array): void {
  // Catalog reads usually come in id or time order: check that before paying for a sort.
  let newestFirst = true;
  let oldestFirst = true;
  for (let k = 1; k < good.length && (newestFirst || oldestFirst); k++) {
    const c = goodTimes[k] - goodTimes[k - 1] || ids[good[k]] - ids[good[k - 1]];
    if (c > 0) newestFirst = false;
    else if (c < 0) oldestFirst = false;
  }
  if (newestFirst) return;
  if (oldestFirst) {
    good.reverse();
    goodTimes.reverse();
    return;
  }
  good.sort((a, b) => times[b] - times[a] || ids[b] - ids[a]);
  for (let k = 0; k < good.length; k++) goodTimes[k] = times[good[k]];
}
