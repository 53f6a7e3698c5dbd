/**
 * The good backups a group's rules keep, found by seeking instead of walking every backup: for
 * a calendar rule, the newest backup of each bucket is the newest one older than the bucket that
 * was kept last. So "daily 7, weekly 4, monthly 12" asks the catalog about 23 times, however many
 * backups the group holds. The same decisions and reasons as policy.ts's walk (a test compares
 * the two over random groups and time zones); where a clock change makes local buckets repeat,
 * it declines and the caller walks.
 */
import { bucketKey, bucketLabel, CALENDAR, formatMs, LocalCalendar, MS_DAY, type CalendarUnit } from './calendar.js';
import { checkRules, NEWEST, type KeepRules } from './policy.js';

/**
 * The group's good backups newest first (by time, then the higher id), older than `before` ms
 * (Infinity: all). Iterating stops early: only what the rules keep is read.
 */
export type GoodBefore = (before: number) => Iterable<readonly [id: number, time: number]>;

export interface SoughtGood {
  /** The kept good backups by id: their time and reasons, in policy.ts's order. */
  kept: Map<number, { time: number; reasons: string[] }>;
  /** Time of the oldest kept good backup; NaN when the group has no good backup. */
  oldestKept: number;
}

/**
 * Applies `rules` to the good backups `good` yields, seeking bucket by bucket. `oldest` is the
 * time of the group's oldest backup (how far back clock changes are checked). Returns undefined
 * where seeking could differ from the walk: a count without end (every bucket is kept, so the
 * walk reads no more), or a clock change that makes a rule's buckets repeat in local time.
 */
export function seekGood(good: GoodBefore, oldest: number, rules: KeepRules, now: Date): SoughtGood | undefined {
  checkRules(rules);
  if ([rules.last, ...CALENDAR.map((unit) => rules[unit])].some((count) => count === Infinity)) return undefined;
  const kept = new Map<number, { time: number; reasons: string[] }>();
  const newest = first(good(Infinity));
  if (!newest) return { kept, oldestKept: NaN };
  let oldestKept = newest[1];
  const add = (id: number, time: number, reason: string): void => {
    const entry = kept.get(id);
    if (entry) entry.reasons.push(reason);
    else kept.set(id, { time, reasons: [reason] });
    oldestKept = Math.min(oldestKept, time);
  };
  if (rules.last) take(good(Infinity), rules.last, ([id, time]) => add(id, time, `last ${rules.last}`));
  const calendar = new LocalCalendar();
  for (const unit of CALENDAR) {
    const count = rules[unit] ?? 0;
    if (count === 0) continue;
    if (!bucketsInOrder(unit, oldest, newest[1], calendar)) return undefined;
    let before = Infinity;
    for (let k = 0; k < count; k++) {
      const next = first(good(before));
      if (!next) break;
      const local = calendar.local(next[1]);
      add(next[0], next[1], `${unit} ${bucketLabel(unit, local)}`);
      before = bucketStart(unit, bucketKey(unit, local, calendar), next[1], calendar);
    }
  }
  if ((rules.withinMs ?? 0) > 0) {
    const cutoff = now.getTime() - rules.withinMs!;
    const reason = `within ${rules.withinLabel ?? formatMs(rules.withinMs!)}`;
    for (const [id, time] of good(Infinity)) {
      if (!(time > cutoff)) break;
      add(id, time, reason);
    }
  }
  if (!kept.has(newest[0])) kept.set(newest[0], { time: newest[1], reasons: [NEWEST] });
  return { kept, oldestKept };
}

function first<T>(items: Iterable<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}

function take<T>(items: Iterable<T>, count: number, each: (item: T) => void): void {
  if (count <= 0) return;
  let n = 0;
  for (const item of items) {
    each(item);
    if (++n >= count) return;
  }
}

/** Longest bucket (a leap year) plus a clock change's worth of slack, in ms. */
const LONGEST = 368 * MS_DAY;

/** The earliest ms with the same bucket key as `time`: a binary search, buckets being in order. */
function bucketStart(unit: CalendarUnit, key: number, time: number, calendar: LocalCalendar): number {
  let lo = time - LONGEST; // its key is lower
  let hi = time; // its key is `key`
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (bucketKey(unit, calendar.local(mid), calendar) === key) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * True when local buckets of `unit` never step back between `from` and `to` (ms): a clock set
 * back across a bucket's edge (a zone's change at 00:01, say) would make a day come twice, and
 * the walk keeps both. Checked day by day; a zone changes its offset at most once a day, as
 * LocalCalendar takes too.
 */
function bucketsInOrder(unit: CalendarUnit, from: number, to: number, calendar: LocalCalendar): boolean {
  const date = new Date(0);
  const offsetAt = (t: number): number => {
    date.setTime(t);
    return date.getTimezoneOffset();
  };
  // getTimezoneOffset is minutes west: a clock set back makes it grow.
  let day = Math.floor(from / MS_DAY) * MS_DAY;
  let before = offsetAt(day);
  for (; day <= to; day += MS_DAY) {
    const after = offsetAt(day + MS_DAY);
    if (after > before) {
      let lo = day;
      let hi = day + MS_DAY;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(mid) === after) hi = mid;
        else lo = mid;
      }
      if (bucketKey(unit, calendar.local(hi - 1), calendar) > bucketKey(unit, calendar.local(hi), calendar)) return false;
    }
    before = after;
  }
  return true;
}
