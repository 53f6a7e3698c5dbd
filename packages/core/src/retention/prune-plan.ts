/**
 * The prune plan: which backups go and why, per service and target, worked out over the catalog
 * with the pure policy (policy.ts) and the checks that hold or disqualify backups. Nothing is
 * removed here; prune.ts carries the plan out.
 */
import { highestCheckId, retentionChecks } from '../catalog/checks.js';
import { type CatalogDb } from '../catalog/db.js';
import { itemDetails, retentionGroupReader, targetsOf } from '../catalog/items.js';
import type { BattConfig } from '../config/load.js';
import { pidAlive } from '../home/lock.js';
import { BACKUP_KINDS, planGroup, type BackupKind, type GroupPlan, type KeepRules } from './policy.js';
import { describeRules, requiresVerified, rulesFor } from './rules.js';

export interface PruneRequest {
  db: CatalogDb;
  config: BattConfig;
  /** Service names as the catalog stores them; empty means every service in the catalog. */
  services: readonly string[];
  /** Only these targets (file targets as absolute paths); empty means all. */
  targets: readonly string[];
  /** Rules from the command line: they replace the config's for every service pruned. */
  flags?: KeepRules;
  now: Date;
}

/** The plan for one service + target: columns by index, as the policy's `planGroup` takes them. */
export interface PlannedGroup extends GroupPlan {
  service: string;
  target: string;
  ids: number[];
  times: number[];
  kinds: Uint8Array;
  /** Bytes of the backups kept, and of those removed. */
  keptBytes: number;
  removedBytes: number;
}

/** The kind of backup `i` of a group, and why it is kept or removed. */
export function decisionOf(g: PlannedGroup, i: number): { kind: BackupKind; keep: boolean; reasons: string[] } {
  const keep = g.keep[i] === 1;
  return { kind: BACKUP_KINDS[g.kinds[i]], keep, reasons: keep ? (g.reasons.get(i) ?? []) : [g.removedReason[g.kinds[i]]] };
}

export interface PrunePlan {
  groups: PlannedGroup[];
  /** The newest check row when planned: a newer one means verdicts or claims may have changed. */
  checkMark: number;
  /** The rules applied, per service, as flags. */
  rules: Record<string, string>;
  /** Services with backups in the catalog but no keep rule: nothing of theirs is touched. */
  untouched: string[];
  planMs: number;
}

/** Items that are in use (a running check, restore or drill of a live batt) and the last verdict of each checked item. */
function checkStates(db: CatalogDb): { holds: Map<number, string>; verdicts: Map<number, string> } {
  const holds = new Map<number, string>();
  const verdicts = new Map<number, string>();
  for (const [itemId, kind, status, pid] of retentionChecks(db)) {
    if (status === 'running') {
      if (pid && pidAlive(pid)) holds.set(itemId, `in use by a ${kind} (pid ${pid})`);
    } else if (status === 'ok' || status === 'failed') {
      verdicts.set(itemId, status);
    }
  }
  return { holds, verdicts };
}

/** A lookup of an id's index in `ids` (-1 when absent): a binary search when they ascend, as the catalog's usually do, else a Map. */
function indexOf(ids: readonly number[]): (id: number) => number {
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

/**
 * Reads the catalog one service + target at a time from the `items_retention` covering index,
 * each column of a group as one JSON array built by SQLite: a million items plan in well under a
 * second, without a million row objects crossing from SQLite.
 */
export function planPrune(request: PruneRequest): PrunePlan {
  const started = performance.now();
  const { holds, verdicts } = checkStates(request.db);
  const failedIds = [...verdicts].filter(([, verdict]) => verdict === 'failed').map(([id]) => id);
  const services = new Set(request.services);
  const targets = new Set(request.targets);
  const groups = targetsOf(request.db).filter(([service, target]) => (!services.size || services.has(service)) && (!targets.size || targets.has(target)));
  const reader = retentionGroupReader(request.db);

  const plan: PrunePlan = { groups: [], checkMark: highestCheckId(request.db), rules: {}, untouched: [], planMs: 0 };
  const ruleCache = new Map<string, ReturnType<typeof rulesFor>>();
  for (const [service, target] of groups) {
    if (!ruleCache.has(service)) ruleCache.set(service, rulesFor(service, request.config, request.flags, request.now));
    const rules = ruleCache.get(service);
    if (!rules) {
      if (!plan.untouched.includes(service)) plan.untouched.push(service);
      continue;
    }
    plan.rules[service] = describeRules(rules);
    const verifiedOnly = requiresVerified(service, request.config);
    const [idsJson, timesJson, totalBytes, oddJson] = reader(service, target);
    const ids = JSON.parse(idsJson) as number[];
    if (ids.length === 0) continue;
    const times = JSON.parse(timesJson) as number[];
    // Failed or suspect backups: id → [flags, bytes].
    const odd = new Map((JSON.parse(oddJson) as [number, number, number | null][]).map(([id, flags, bytes]) => [id, [flags, bytes ?? 0] as const]));
    // Kind numbers index BACKUP_KINDS: 0 good, 1 failed, 2 suspect, 3 unverified.
    const kinds = new Uint8Array(ids.length);
    const held = new Map<number, string>();
    const classify = (i: number): void => {
      const flags = odd.get(ids[i])?.[0] ?? 1;
      const verdict = verdicts.get(ids[i]);
      if (!(flags & 1) || verdict === 'failed') kinds[i] = 1;
      else if (flags & 2) kinds[i] = 2;
      else if (verifiedOnly && verdict !== 'ok') kinds[i] = 3;
      const hold = holds.get(ids[i]);
      if (hold) held.set(i, hold);
    };
    if (verifiedOnly) {
      for (let i = 0; i < ids.length; i++) classify(i);
    } else {
      // Only failed or suspect items, failed verdicts and holds make a backup other than good:
      // look those few up instead of every backup in the Maps.
      const at = indexOf(ids);
      const touched: number[] = [];
      for (const id of [...odd.keys(), ...failedIds, ...holds.keys()]) {
        const i = at(id);
        if (i >= 0) touched.push(i);
      }
      for (const i of touched.sort((a, b) => a - b)) classify(i);
    }
    const decided = planGroup({ ids, times, kinds, holds: held }, rules, request.now);
    // Most kept backups are failed or suspect ones, whose sizes came with them: look up the rest.
    const lookUp: number[] = [];
    let keptBytes = 0;
    for (let i = 0; i < ids.length; i++) {
      if (decided.keep[i] === 0) continue;
      const bytes = odd.get(ids[i])?.[1];
      if (bytes === undefined) lookUp.push(ids[i]);
      else keptBytes += bytes;
    }
    for (const { bytes } of itemDetails(request.db, lookUp).values()) keptBytes += bytes ?? 0;
    plan.groups.push({ ...decided, service, target, ids, times, kinds, keptBytes, removedBytes: totalBytes - keptBytes });
  }
  plan.planMs = performance.now() - started;
  return plan;
}
