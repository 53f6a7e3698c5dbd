/**
 * The prune plan of one service + target made without reading every backup: the good backups
 * the rules keep are sought (seek.ts); every failed or suspect backup newer than the oldest of
 * them is kept (policy.ts), so those are counted by an index range and read only when listed;
 * the group's totals come from item_totals. What is removed is everything else, read only when a
 * listing shows it or the prune is carried out (columns()).
 */
import type { CatalogDb } from '../catalog/db.js';
import { itemDetails } from '../catalog/items.js';
import { retentionFacts, retentionSeeker } from '../catalog/retention.js';
import { BattError } from '../errors/errors.js';
import { indexOf, kindOf, onlyNewerReason, readColumns, type CheckStates, type Decision, type GroupColumnsPlan, type PlannedGroup } from './group-plan.js';
import { BACKUP_KINDS, NEWER_BY_KIND, REMOVED_REASON, type KeepRules } from './policy.js';
import { seekGood } from './seek.js';

/**
 * A planner of groups by seeking, returning undefined where seeking does not apply (see
 * seekGood) or the group has no good backup. The facts of items with a failed verdict or a
 * hold are read once, on first use.
 */
export function seeker(db: CatalogDb, now: Date, states: CheckStates): (service: string, target: string, rules: KeepRules) => PlannedGroup | undefined {
  const q = retentionSeeker(db);
  let facts: ReturnType<typeof retentionFacts> | undefined;
  return (service, target, rules) => {
    const oldest = q.oldest(service, target);
    if (oldest === undefined) return undefined;
    const good = function* (before: number) {
      for (const row of q.good(service, target, before)) if (!states.failed.has(row[0])) yield row;
    };
    const sought = seekGood(good, oldest, rules, now);
    if (!sought || sought.kept.size === 0) return undefined;
    const after = sought.oldestKept;
    // Kept failed and suspect backups newer than `after` are the index range of q.odd; the rest
    // of the kept ones are few and listed here: the good ones kept, a newer one that failed its
    // verify, and held ones (a held one of that range with both reasons, so it is skipped there).
    const listed = new Map<number, Decision>();
    for (const [id, { time, reasons }] of sought.kept) listed.set(id, { id, time, kind: 'good', keep: true, reasons });
    facts ??= retentionFacts(db, [...states.failed, ...states.holds.keys()]);
    const folded = { count: 0, bytes: 0 };
    const heldInRange = { count: 0, bytes: 0 };
    for (const [id, [s, t, time, flags, bytes]] of facts) {
      if (s !== service || t !== target) continue;
      const kind = kindOf(id, flags, states.failed);
      const inRange = flags !== 1 && time > after; // failed or suspect, newer: counted by q.oddTotals
      const hold = states.holds.get(id);
      if (hold) {
        const decision = listed.get(id);
        if (decision) decision.reasons.push(hold);
        else listed.set(id, { id, time, kind: BACKUP_KINDS[kind], keep: true, reasons: kind !== 0 && time > after ? [NEWER_BY_KIND[kind], hold] : [hold] });
        if (inRange) {
          heldInRange.count++;
          heldInRange.bytes += bytes ?? 0;
        }
        // A held failed one is listed with its hold, not folded with the others.
        if (inRange && !(flags & 1)) {
          folded.count--;
          folded.bytes -= bytes ?? 0;
        }
      } else if (kind === 1 && time > after && states.failed.has(id)) {
        if (!inRange) listed.set(id, { id, time, kind: 'failed', keep: true, reasons: [NEWER_BY_KIND[1]] });
        // Its verify failed: folded with the failed ones (q.oddTotals counted it as suspect if it is).
        if (!inRange || flags & 1) {
          folded.count++;
          folded.bytes += bytes ?? 0;
        }
      }
    }
    for (const [id, details] of itemDetails(db, [...listed.keys()])) Object.assign(listed.get(id)!, details);
    const [rangeCount, rangeBytes, failedCount, failedBytes] = q.oddTotals(service, target, after);
    folded.count += failedCount;
    folded.bytes += failedBytes;
    let listedBytes = 0;
    for (const { bytes } of listed.values()) listedBytes += bytes ?? 0;
    const [total, totalBytes] = q.totals(service, target);
    const kept = listed.size + rangeCount - heldInRange.count;
    const keptBytes = listedBytes + rangeBytes - heldInRange.bytes;
    const isKept = (id: number, time: number, flags: number): boolean => listed.has(id) || (flags !== 1 && time > after);

    /** The kept ones newest first: the range of q.odd merged with the listed ones. */
    const keptNewest = (failed: boolean): Decision[] => {
      const range: Decision[] = [];
      for (const [id, time, flags, runId, bytes] of q.odd(service, target, after, failed)) {
        if (listed.has(id)) continue;
        const kind = kindOf(id, flags, states.failed);
        if (!failed && kind === 1) continue;
        range.push({ id, time, kind: BACKUP_KINDS[kind], keep: true, reasons: [NEWER_BY_KIND[kind]], runId, bytes });
      }
      const others = [...listed.values()].filter((d) => failed || !(d.kind === 'failed' && onlyNewerReason(d.reasons))).sort(newer);
      return mergeNewest(range, others);
    };
    let columns: GroupColumnsPlan | undefined;
    return {
      service,
      target,
      kept,
      removed: total - kept,
      keptBytes,
      removedBytes: totalBytes - keptBytes,
      keptFailed: folded,
      columns: () => (columns ??= columnsOf(states, service, target, keptNewest(true), total)),
      newest: (shown, failed = true) => {
        const sorted = keptNewest(failed);
        const out: Decision[] = [];
        let k = 0;
        let removed = 0;
        if (shown > 0) {
          for (const [id, time, flags] of q.newest(service, target)) {
            if (isKept(id, time, flags)) continue;
            while (k < sorted.length && newer(sorted[k], { id, time } as Decision) < 0) out.push(sorted[k++]);
            const kind = kindOf(id, flags, states.failed);
            out.push({ id, time, kind: BACKUP_KINDS[kind], keep: false, reasons: [REMOVED_REASON[kind]] });
            if (++removed >= shown) break;
          }
        }
        return out.concat(sorted.slice(k));
      },
    };
  };
}

/** Order of decisions newest first: by time, then the higher id. */
const newer = (a: Decision, b: Decision): number => b.time - a.time || b.id - a.id;

/** Two lists, each newest first, as one. */
function mergeNewest(a: Decision[], b: Decision[]): Decision[] {
  const out: Decision[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && newer(a[i], b[j]) <= 0) ? a[i++] : b[j++]);
  return out;
}

/** A sought group's columns: every backup read, each kept one as sought. Throws if the group changed since it was planned. */
function columnsOf(states: CheckStates, service: string, target: string, kept: readonly Decision[], total: number): GroupColumnsPlan {
  const { ids, times, kinds } = readColumns(states, service, target, false);
  const at = indexOf(ids);
  const keep = new Uint8Array(ids.length);
  const reasons = new Map<number, string[]>();
  for (const decision of kept) {
    const i = at(decision.id);
    if (i < 0) break;
    keep[i] = 1;
    reasons.set(i, decision.reasons);
  }
  if (ids.length !== total || reasons.size !== kept.length) {
    throw new BattError('CATALOG', `the backups of ${service} ${target} changed while the prune was planned: nothing removed`, { hint: 'run the prune again' });
  }
  return { ids, times, kinds, keep, reasons, removedReason: REMOVED_REASON };
}
