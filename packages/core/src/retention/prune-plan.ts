/**
 * The prune plan: which backups go and why, per service and target, worked out over the catalog
 * with the pure policy (policy.ts) and the checks that hold or disqualify backups. Nothing is
 * removed here; prune.ts carries the plan out.
 */
import { failedVerdicts, highestCheckId, lastVerdicts, runningItemChecks } from '../catalog/checks.js';
import { type CatalogDb } from '../catalog/db.js';
import { targetsOf } from '../catalog/items.js';
import { retentionGroupReader } from '../catalog/retention.js';
import type { BattConfig } from '../config/load.js';
import { pidAlive } from '../home/lock.js';
import { walkGroup, type CheckStates, type PlannedGroup } from './group-plan.js';
import type { KeepRules } from './policy.js';
import { describeRules, requiresVerified, rulesFor } from './rules.js';
import { seeker } from './seek-group.js';

export { decisionOf, type Decision, type GroupColumnsPlan, type PlannedGroup } from './group-plan.js';

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
  /** false: read every backup of each target even where seeking applies (tests compare the two). */
  seek?: boolean;
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

/** Items that are in use by a running check, restore or drill of a live batt: id → why it is held. */
function holdsOf(db: CatalogDb): Map<number, string> {
  const holds = new Map<number, string>();
  for (const [itemId, kind, pid] of runningItemChecks(db)) if (pid && pidAlive(pid)) holds.set(itemId, `in use by a ${kind} (pid ${pid})`);
  return holds;
}

/**
 * Plans each service + target by seeking the backups its rules keep (seek.ts: a few dozen index
 * seeks, then the failed or suspect ones and the group's totals), so a dry run over millions of
 * backups reads only what it shows. Where seeking does not apply (only verified backups count, a
 * count without end, a clock change that repeats a local bucket, no good backup) it reads every
 * backup as columns (walkGroup).
 */
export function planPrune(request: PruneRequest): PrunePlan {
  const started = performance.now();
  // Every verdict is read only where only verified backups count; elsewhere just the failed ones.
  let verdicts: Map<number, string> | undefined;
  const states: CheckStates = {
    holds: holdsOf(request.db),
    failed: failedVerdicts(request.db),
    verdicts: () => (verdicts ??= lastVerdicts(request.db)),
    reader: retentionGroupReader(request.db),
  };
  const services = new Set(request.services);
  const targets = new Set(request.targets);
  const groups = targetsOf(request.db).filter(([service, target]) => (!services.size || services.has(service)) && (!targets.size || targets.has(target)));
  const seek = request.seek === false ? () => undefined : seeker(request.db, request.now, states);

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
    const group = (!verifiedOnly && seek(service, target, rules)) || walkGroup(request.db, request.now, states, service, target, rules, verifiedOnly);
    if (group) plan.groups.push(group);
  }
  plan.planMs = performance.now() - started;
  return plan;
}
