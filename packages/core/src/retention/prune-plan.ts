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

/**
 * Reads the catalog one service + target at a time from the `items_retention` covering index,
 * each column of a group as one JSON array built by SQLite: a million items plan in well under a
 * second, without a million row objects crossing from SQLite.
 */
export function planPrune(request: PruneRequest): PrunePlan {
  const started = performance.now();
  const { holds, verdicts } = checkStates(request.db);
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
    const [idsJson, timesJson, totalBytes] = reader.columns(service, target);
    const ids = JSON.parse(idsJson) as number[];
    if (ids.length === 0) continue;
    const times = JSON.parse(timesJson) as number[];
    const odd = new Map(reader.odd(service, target));
    // Kind numbers index BACKUP_KINDS: 0 good, 1 failed, 2 suspect, 3 unverified.
    const kinds = new Uint8Array(ids.length);
    const held = new Map<number, string>();
    if (odd.size || verdicts.size || holds.size || verifiedOnly) {
      for (let i = 0; i < ids.length; i++) {
        const flags = odd.get(ids[i]) ?? 1;
        const verdict = verdicts.get(ids[i]);
        if (!(flags & 1) || verdict === 'failed') kinds[i] = 1;
        else if (flags & 2) kinds[i] = 2;
        else if (verifiedOnly && verdict !== 'ok') kinds[i] = 3;
        const hold = holds.get(ids[i]);
        if (hold) held.set(i, hold);
      }
    }
    const decided = planGroup({ ids, times, kinds, holds: held }, rules, request.now);
    const kept = ids.filter((_, i) => decided.keep[i] === 1);
    let keptBytes = 0;
    for (const { bytes } of itemDetails(request.db, kept).values()) keptBytes += bytes ?? 0;
    plan.groups.push({ ...decided, service, target, ids, times, kinds, keptBytes, removedBytes: totalBytes - keptBytes });
  }
  plan.planMs = performance.now() - started;
  return plan;
}
