/**
 * Which backups a retention run keeps and which it removes. restic's `forget` rules (last,
 * hourly … yearly, within), applied per group, plus batt's safety rules: the newest good backup
 * of a group always stays, failed/suspect/unverified backups never use up a rule's slot, a group
 * with no good backup is left alone, and a held backup is never removed. Pure: the caller reads
 * the catalog and deletes; this only decides, with the reasons shown to the user. Calendar
 * buckets are in the process's local time (TZ), as users think in local days.
 *
 * Longer than 200 lines because the rules and the safety rules decide together, slot by slot,
 * and read best side by side; the calendar (calendar.ts) and the columns (columns.ts) are apart.
 */
import { bucketKey, bucketLabel, CALENDAR, formatMs, LocalCalendar, type CalendarUnit } from './calendar.js';
import { countGood, fillColumns, fillGood, groupBackups, sortNewestFirst, type FilledColumns } from './columns.js';

export interface KeepRules {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep every counted backup newer than now - withinMs. */
  withinMs?: number;
  /** Label for --keep-within in reasons, e.g. "30d". */
  withinLabel?: string;
}

export type BackupKind = 'good' | 'failed' | 'suspect' | 'unverified';

export interface RetentionBackup {
  /** Catalog item id. */
  id: number;
  /** One retention group = one service + target (the caller builds the string). */
  group: string;
  /** Epoch ms of the backup's start. */
  time: number;
  /** Only 'good' counts toward the rules. */
  kind: BackupKind;
  /** When set: always kept with this reason (e.g. "in use by a restore (pid 12)"); it still counts toward the rules if good. */
  hold?: string;
}

export interface RetentionDecision {
  id: number;
  group: string;
  time: number;
  kind: BackupKind;
  keep: boolean;
  reasons: string[];
}

type Unit = CalendarUnit;
const COUNTS = ['last', ...CALENDAR] as const;
const MAX_TIME = 8.64e15; // the largest epoch ms a Date holds

export const NEWEST = 'newest good backup';
const NOT_KEPT = 'not kept by any rule';
const NO_GOOD = 'no good backup of this target: nothing removed';
// Shared strings: a million removed backups must not mean a million built strings.
const NEWER: Record<Exclude<BackupKind, 'good'>, string> = {
  failed: 'failed: not counted, newer than the oldest kept backup',
  suspect: 'suspect: not counted, newer than the oldest kept backup',
  unverified: 'unverified: not counted, newer than the oldest kept backup',
};
const OLDER: Record<Exclude<BackupKind, 'good'>, string> = {
  failed: 'failed: older than every kept backup',
  suspect: 'suspect: older than every kept backup',
  unverified: 'unverified: older than every kept backup',
};

/** True when at least one rule would keep something; 0 means "not set", as in restic. */
export function hasRules(rules: KeepRules): boolean {
  return COUNTS.some((name) => (rules[name] ?? 0) > 0) || (rules.withinMs ?? 0) > 0;
}

/** Kinds as numbers for the columnar path: index into BACKUP_KINDS. */
export const BACKUP_KINDS: readonly BackupKind[] = Object.freeze(['good', 'failed', 'suspect', 'unverified'] as const);
const GOOD = 0; // BACKUP_KINDS.indexOf('good')

/** One group's backups as columns: index i of each column is one backup. Any order. */
export interface GroupColumns {
  /** Catalog item ids (tie-break: the higher id is newer at equal time). */
  ids: ArrayLike<number>;
  /** Epoch ms of each backup's start. */
  times: ArrayLike<number>;
  /** Index into BACKUP_KINDS. */
  kinds: ArrayLike<number>;
  /** Index → hold reason: always kept with this reason; still counts toward the rules if good. */
  holds?: ReadonlyMap<number, string>;
}

export interface GroupPlan {
  /** 1 = keep, 0 = remove, per index. */
  keep: Uint8Array;
  /** The reasons of each kept backup, by index (only kept ones have an entry). */
  reasons: Map<number, string[]>;
  /** The one reason shared by removed backups of each kind, e.g. removedReason[0] = 'not kept by any rule'. */
  removedReason: readonly string[];
}

// By kind number. Kept non-good backups get their own one-reason array each (they are few);
// removed ones share these strings through GroupPlan.removedReason.
export const NEWER_BY_KIND: readonly string[] = ['', NEWER.failed, NEWER.suspect, NEWER.unverified];
export const REMOVED_REASON: readonly string[] = Object.freeze([NOT_KEPT, OLDER.failed, OLDER.suspect, OLDER.unverified]);

/**
 * One decision per input backup, in input order. Throws a plain Error when no rule is set
 * (planning with none would remove everything but the newest), a count is not a whole number or
 * a time is not a date. A thin wrapper over planGroup: groups the input into columns, plans each
 * group, and builds the decision objects.
 */
export function planRetention(backups: readonly RetentionBackup[], rules: KeepRules, now: Date): RetentionDecision[] {
  checkRules(rules);
  // Each step is a small function with one loop: V8 optimises those soon, and a single call over
  // a million backups otherwise spends much of its time in unoptimised code.
  const { groupOf, sizes } = groupBackups(backups);
  const columns = sizes.map((size) => ({
    ids: new Float64Array(size),
    times: new Float64Array(size),
    kinds: new Uint8Array(size),
    holds: undefined as Map<number, string> | undefined,
  }));
  // Each backup's index within its group's columns.
  const localOf = new Int32Array(backups.length);
  fillColumns(backups, groupOf, columns, localOf);
  const plans = columns.map((c) => planColumns(c, rules, now));
  return decide(backups, groupOf, localOf, columns, plans);
}

/**
 * planRetention for the backups of ONE group given as columns, without an object per backup:
 * the same rules, reasons and errors. Kept backups have their reasons in `reasons`; a removed
 * backup's one reason is `removedReason[kinds[i]]`.
 */
export function planGroup(columns: GroupColumns, rules: KeepRules, now: Date): GroupPlan {
  checkRules(rules);
  checkColumns(columns);
  return planColumns(columns, rules, now);
}

export function checkRules(rules: KeepRules): void {
  for (const name of COUNTS) {
    const count = rules[name];
    if (count !== undefined && !(count === Infinity || (Number.isInteger(count) && count >= 0))) {
      throw new Error(`keep ${name}: expected a whole number of 0 or more, got ${count}`);
    }
  }
  if (rules.withinMs !== undefined && !(rules.withinMs >= 0)) throw new Error(`keep within: expected 0 ms or more, got ${rules.withinMs}`);
  if (!hasRules(rules)) throw new Error('no retention rule set: refusing to plan (it would remove all but the newest backup)');
}

function checkColumns({ ids, times, kinds, holds }: GroupColumns): void {
  const n = times.length;
  if (ids.length !== n || kinds.length !== n) throw new Error(`group columns differ in length: ${ids.length} ids, ${n} times, ${kinds.length} kinds`);
  for (let i = 0; i < n; i++) {
    if (!(Math.abs(times[i]) <= MAX_TIME)) throw new Error(`backup ${ids[i]}: time ${times[i]} is not a date`);
    const k = kinds[i];
    if (k !== 0 && k !== 1 && k !== 2 && k !== 3) throw new Error(`backup ${ids[i]}: kind ${k} is not an index into BACKUP_KINDS`);
  }
  if (holds) {
    for (const i of holds.keys()) {
      if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`hold on index ${i}: not a backup of the group (0 to ${n - 1})`);
    }
  }
}

/** planGroup on checked columns. */
function planColumns(columns: GroupColumns, rules: KeepRules, now: Date): GroupPlan {
  const { ids, times, kinds, holds } = columns;
  // The good backups as indexes with their times beside them, in typed arrays: the walks read
  // memory in order, and the garbage collector never copies them.
  const good = new Int32Array(countGood(kinds));
  const goodTimes = new Float64Array(good.length);
  fillGood(times, kinds, good, goodTimes);
  sortNewestFirst(ids, times, good, goodTimes);
  // Reasons of kept backups only (few): a Map, not a sparse million-slot array.
  const reasons = new Map<number, string[]>();
  const withinMs = rules.withinMs ?? 0;
  const cutoff = withinMs > 0 ? now.getTime() - withinMs : Infinity;
  // Time of the oldest kept good backup; NaN when the group has no good backup.
  const oldestKept = keepGood(good, goodTimes, rules, cutoff, reasons);
  // Looking up a million indexes in the Map costs more than marking the few kept ones.
  const keep = new Uint8Array(times.length);
  for (const i of reasons.keys()) keep[i] = 1;
  keepNotCounted(times, kinds, oldestKept, keep, reasons);
  if (holds) {
    for (const [i, hold] of holds) {
      // A held backup is kept, so a reason for removing it would only confuse.
      if (keep[i] === 1) reasons.get(i)!.push(hold);
      else reasons.set(i, [hold]);
      keep[i] = 1;
    }
  }
  return { keep, reasons, removedReason: REMOVED_REASON };
}

/**
 * Applies the rules to one group's good backups (newest first), adding reasons for the kept ones.
 * Returns the time of the oldest kept, NaN for an empty group.
 */
function keepGood(good: Int32Array, times: Float64Array, rules: KeepRules, cutoff: number, reasons: Map<number, string[]>): number {
  if (good.length === 0) return NaN;
  let oldest = 0; // position of the oldest kept backup: the newest is always kept
  const last = Math.min(rules.last ?? 0, good.length);
  const lastReason = `last ${rules.last}`;
  for (let k = 0; k < last; k++) addReason(reasons, good[k], lastReason);
  oldest = Math.max(oldest, last - 1);
  const calendar = new LocalCalendar();
  for (const unit of CALENDAR) {
    const count = rules[unit] ?? 0;
    if (count > 0) oldest = Math.max(oldest, keepBuckets(unit, count, good, times, calendar, reasons));
  }
  if (cutoff < Infinity) {
    const withinReason = `within ${rules.withinLabel ?? formatMs(rules.withinMs ?? 0)}`;
    let k = 0;
    for (; k < times.length && times[k] > cutoff; k++) addReason(reasons, good[k], withinReason);
    oldest = Math.max(oldest, k - 1);
  }
  if (!reasons.has(good[0])) reasons.set(good[0], [NEWEST]);
  return times[oldest];
}

/**
 * restic's algorithm for one calendar rule: walking newest first, keep a backup whose bucket
 * differs from the last bucket kept, until `count` are kept. So each bucket keeps its newest
 * backup, and the count is of buckets that have backups. Returns the last position kept.
 */
function keepBuckets(unit: Unit, count: number, good: Int32Array, times: Float64Array, calendar: LocalCalendar, reasons: Map<number, string[]>): number {
  let lastKey = NaN; // never equal to a key: the newest backup always starts a bucket
  let lastKept = -1;
  for (let k = 0; k < times.length && count > 0; k++) {
    const local = calendar.local(times[k]);
    const key = bucketKey(unit, local, calendar);
    if (key !== lastKey) {
      lastKey = key;
      lastKept = k;
      count--;
      addReason(reasons, good[k], `${unit} ${bucketLabel(unit, local)}`);
    }
  }
  return lastKept;
}

function addReason(reasons: Map<number, string[]>, index: number, reason: string): void {
  const list = reasons.get(index);
  if (list) list.push(reason);
  else reasons.set(index, [reason]);
}

/**
 * Keeps the failed, suspect and unverified backups newer than the oldest kept good one, or all
 * of them when the group has no good backup (oldestKept NaN); the rest are removed.
 */
function keepNotCounted(times: ArrayLike<number>, kinds: ArrayLike<number>, oldestKept: number, keep: Uint8Array, reasons: Map<number, string[]>): void {
  if (Number.isNaN(oldestKept)) {
    // No good backup: every backup here is failed, suspect or unverified.
    for (let i = 0; i < keep.length; i++) {
      keep[i] = 1;
      reasons.set(i, [NO_GOOD]);
    }
    return;
  }
  for (let i = 0; i < keep.length; i++) {
    const kind = kinds[i];
    if (kind !== GOOD && times[i] > oldestKept) {
      keep[i] = 1;
      reasons.set(i, [NEWER_BY_KIND[kind]]);
    }
  }
}

/** The decision for every backup, in input order, from its group's plan. */
function decide(backups: readonly RetentionBackup[], groupOf: Int32Array, localOf: Int32Array, columns: FilledColumns[], plans: GroupPlan[]): RetentionDecision[] {
  const keepOf = plans.map((p) => p.keep);
  const kindsOf = columns.map((c) => c.kinds);
  const removedOf = plans.map((p) => p.removedReason);
  const out: RetentionDecision[] = new Array(backups.length);
  for (let i = 0; i < backups.length; i++) {
    const b = backups[i];
    const g = groupOf[i];
    const j = localOf[i];
    const keep = keepOf[g][j] === 1;
    const why = keep ? plans[g].reasons.get(j)! : [removedOf[g][kindsOf[g][j]]];
    out[i] = { id: b.id, group: b.group, time: b.time, kind: b.kind, keep, reasons: why };
  }
  return out;
}
