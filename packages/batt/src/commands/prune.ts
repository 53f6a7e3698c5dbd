/**
 * `batt prune` and `batt purge`: the retention plan (what goes, and why each kept backup stays),
 * then, unless --dry-run, the removal with files and catalog in step. Holds the home's lock, so
 * no backup runs meanwhile, and finishes any prune a killed batt left half done first.
 */
import {
  BattError,
  ExitCode,
  catalogTarget,
  closeCatalog,
  type BattConfig,
  type Logger,
  defaultDestination,
  destinationRoots,
  anyDrilled,
  drilledItems,
  drilledTargets,
  finishInterruptedPrunes,
  findOrphans,
  markAbortedRuns,
  openCatalog,
  planPrune,
  runPrune,
  toRules,
  type CatalogDb,
  type KeepRules,
  type PrunePlan,
  type RuleInput,
  waitForLock,
} from '@batt/core';
import type { App } from '../app.js';
import { jsonItems, printPlan, summary } from './prune-report.js';
import { appSecrets, loadAppConfig, openLog } from './common.js';
import { err, humanBytes, out, printJsonList } from '../output.js';

export interface PruneArgs {
  services: string[];
  targets: string[];
  /** Keep rules from flags; empty means the config's. */
  rules: RuleInput;
  dryRun: boolean;
  /** List every removed backup, not just the first few per target. */
  verbose: boolean;
  config?: string;
  json: boolean;
  quiet: boolean;
  /** The command's name in messages: prune or purge. */
  command: 'prune' | 'purge';
}

/**
 * Targets where the plan removes every backup that passed a restore drill while require_verified
 * is off (so unverified backups count as good and pushed the drilled one out): worth a word.
 */
function drillWarnings(db: CatalogDb, plan: PrunePlan, config: BattConfig): string[] {
  // Drilled items by service and target, as [item id, run id]: read only for a target that keeps no drilled backup.
  let drilled: Map<string, [number, number][]> | undefined;
  const drilledOf = (service: string, target: string): [number, number][] => (drilled ??= drilledItems(db)).get(`${service}\0${target}`) ?? [];
  const ever = drilledTargets(db);
  const warnings: string[] = [];
  for (const g of plan.groups) {
    if (!ever.has(`${g.service}\0${g.target}`) || g.removed === 0 || ((config.services[g.service]?.require_verified as boolean | undefined) ?? config.require_verified) === true)
      continue;
    // The kept ones without the folded failed ones first: those are many, and seldom drilled.
    const kept = (failed: boolean): number[] =>
      g
        .newest(0, failed)
        .filter((d) => d.keep)
        .map((d) => d.id);
    if (anyDrilled(db, kept(false)) || anyDrilled(db, kept(true))) continue;
    // None kept: every drilled backup of the target is removed.
    const removed = drilledOf(g.service, g.target);
    if (removed.length === 0) continue;
    // The first ten runs: a target drilled weekly for years has hundreds.
    const more = removed.length > 10 ? ` … and ${removed.length - 10} more` : '';
    const runs = `${removed
      .slice(0, 10)
      .map(([, runId]) => runId)
      .join(', ')}${more}`;
    warnings.push(
      `${g.service} ${g.target}: this removes every backup that passed a restore drill (run ${runs}); require_verified is off, so unverified backups count as good. Set require_verified: true to keep drilled backups (docs/retention.md)`,
    );
  }
  return warnings;
}

export async function pruneCommand(app: App, args: PruneArgs): Promise<number> {
  const config = await loadAppConfig(app, args);
  const now = new Date();
  const flags: KeepRules | undefined = Object.values(args.rules).some((v) => v !== undefined) ? toRules(args.rules, now, '--keep-within', 'USAGE') : undefined;
  // Known names and aliases become the catalog's names; others (a removed script) are used as given.
  const services = args.services.map((name) => app.services.find((s) => s.name === name || s.plugin?.aliases?.includes(name))?.name ?? name);
  const targets = args.targets.map((t) => catalogTarget(services.length === 1 ? app.services.find((s) => s.name === services[0]) : undefined, t));
  const lock = args.dryRun
    ? undefined
    : await waitForLock(app.home.root, config.lock_wait ?? 0, (message) => {
        if (!args.quiet) err`batt: ${message}\n`;
      });
  const db = await openCatalog(app.home.catalog);
  // Removals go to the day's log file as well as the catalog; on stderr only with errors.
  const log: Logger = openLog(app, { quiet: true, json: args.json }, appSecrets(config)).scoped(args.command);
  try {
    // A dry run removes nothing, so it needs no backup folders.
    const roots = args.dryRun ? [] : destinationRoots(db, config, defaultDestination(app.home.root));
    if (!args.dryRun) {
      markAbortedRuns(db);
      for (const done of await finishInterruptedPrunes(db, () => roots, config)) {
        log.info(`finished prune ${done.id}, which was interrupted: ${done.removed} backups removed`);
        if (!args.quiet) err`batt: finished prune ${done.id}, which was interrupted: ${done.removed} backups removed\n`;
        refusedOutside(done.refused, roots, log);
      }
    }
    const plan = planPrune({ db, config, services, targets, flags, now });
    if (plan.groups.length === 0 && plan.untouched.length === 0) {
      const what = services.length ? `${services.join(', ')} ` : '';
      throw new BattError('NOT_FOUND', `no ${what}backups${targets.length ? ` of ${targets.join(', ')}` : ''} in the catalog`, { hint: '`batt runs` lists what there is' });
    }
    if (Object.keys(plan.rules).length === 0) {
      throw new BattError('USAGE', `no keep rule for ${plan.untouched.join(', ')}: batt will not guess which backups you can do without`, {
        hint: 'e.g. batt prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12, or set keep_daily: 7 … in the config (docs/retention.md)',
      });
    }
    const total = summary(plan);
    const warnings = drillWarnings(db, plan, config);
    if (!args.json && !args.quiet) for (const w of warnings) err`warning: ${w}\n`;
    if (args.dryRun) {
      if (args.json)
        printJsonList({ dryRun: true, rules: plan.rules, untouched: plan.untouched, planMs: Math.round(plan.planMs), ...total, warnings }, 'backups', jsonItems(plan, db));
      else {
        printPlan(plan, args, db);
        out`would remove ${total.remove} backups (${humanBytes(total.bytes)}) and keep ${total.keep}; planned in ${(plan.planMs / 1000).toFixed(2)}s\n`;
      }
      return 0;
    }
    if (!args.json && !args.quiet) printPlan(plan, args, db);
    // Listed before the removal: the rows that say which run a backup belonged to go with it.
    const listing = args.json ? [...jsonItems(plan, db)] : [];
    // The log hears the rules, each removal and the result from the prune's events.
    const result = await runPrune({ db, config, services, targets, flags, now }, plan, roots, { log, warnings });
    refusedOutside(result.refused, roots, log);
    const orphans = result.removed ? findOrphans(db, result.folders) : [];
    if (args.json) {
      printJsonList({ dryRun: false, rules: plan.rules, untouched: plan.untouched, planMs: Math.round(plan.planMs), ...total, ...result, orphans, warnings }, 'backups', listing);
    } else {
      out`removed ${result.removed} backups (${humanBytes(result.bytes)}), kept ${total.keep}${result.heldMeanwhile ? `; ${result.heldMeanwhile} left in place because a restore or verify started on them` : ''}\n`;
      if (orphans.length) {
        out`${orphans.length} file(s) in these folders are not in the catalog (orphans; batt leaves them alone):\n`;
        for (const o of orphans.slice(0, 20)) out`  ${o}\n`;
        if (orphans.length > 20) out`  … and ${orphans.length - 20} more; \`batt catalog check\` lists all\n`;
      }
    }
    return result.refused.length ? ExitCode.failed : 0;
  } finally {
    closeCatalog(db);
    lock?.release();
  }
}

/** Says (on stderr and in the log) which files the catalog named outside the backup folders: left alone. */
function refusedOutside(files: readonly string[], roots: readonly string[], log: Logger): void {
  for (const file of files) {
    const text = `left ${file} in place: the catalog names it, but it is outside the backup folders this home knows (${roots.join(', ')}); its catalog row is gone`;
    log.warn(text);
    err`batt: ${text}\n`;
  }
}
