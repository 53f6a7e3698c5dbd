/**
 * `batt prune` and `batt purge`: the retention plan (what goes, and why each kept backup stays),
 * then, unless --dry-run, the removal with files and catalog in step. Holds the home's lock, so
 * no backup runs meanwhile, and finishes any prune a killed batt left half done first.
 */
import {
  acquireLock,
  BattError,
  ExitCode,
  catalogTarget,
  closeCatalog,
  collectSecrets,
  type BattConfig,
  type Logger,
  defaultDestination,
  destinationRoots,
  drilledItems,
  finishInterruptedPrunes,
  findOrphans,
  markAbortedRuns,
  openCatalog,
  planPrune,
  runPrune,
  toRules,
  decisionOf,
  itemDetails,
  type CatalogDb,
  type KeepRules,
  type PrunePlan,
  type RuleInput,
} from '@batt/core';
import type { App } from '../app.js';
import { loadAppConfig, openLog } from './common.js';
import { err, humanBytes, out, printJson, when } from '../output.js';

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

/** How many removed backups of one target are listed before "… and N more". */
const SHOWN = 10;

function printPlan(plan: PrunePlan, args: PruneArgs, db: CatalogDb): void {
  out`${args.command} plan${args.dryRun ? ' (dry run: nothing is removed)' : ''}\n`;
  let service = '';
  for (const g of plan.groups) {
    if (g.service !== service) out`${(service = g.service)}  (${plan.rules[service]})\n`;
    out`  ${g.target}\n`;
    const order = newestFirst(g);
    let removed = 0;
    const listed = order.filter((i) => g.keep[i] === 1 || args.verbose || removed++ < SHOWN);
    const details = itemDetails(
      db,
      listed.map((i) => g.ids[i]),
    );
    let listedRemovedBytes = 0;
    for (const i of listed) {
      const d = decisionOf(g, i);
      const { runId, bytes } = details.get(g.ids[i]) ?? { runId: '?', bytes: 0 };
      if (!d.keep) listedRemovedBytes += bytes ?? 0;
      out`    ${d.keep ? 'keep  ' : 'remove'}  run ${String(runId).padEnd(6)} ${when(new Date(g.times[i]).toISOString())}  ${humanBytes(bytes ?? 0).padStart(9)}  ${d.reasons.join(', ')}\n`;
    }
    const hidden = order.length - listed.length;
    if (hidden) out`    remove  … and ${hidden} older (${humanBytes(g.removedBytes - listedRemovedBytes)}); --verbose lists them\n`;
  }
  for (const name of plan.untouched) out`${name}: no keep rule, nothing removed (pass --keep-* or set keep_* in the config)\n`;
}

/** Indexes of a group's backups, newest first. The catalog hands them over oldest first, so
 * reversing is enough; a sort is the fallback. */
function newestFirst(g: PrunePlan['groups'][number]): number[] {
  const n = g.ids.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = g.times[i] > g.times[i - 1] || (g.times[i] === g.times[i - 1] && g.ids[i] > g.ids[i - 1]);
  const order = Array.from({ length: n }, (_, i) => n - 1 - i);
  return ascending ? order : order.sort((a, b) => g.times[b] - g.times[a] || g.ids[b] - g.ids[a]);
}

function summary(plan: PrunePlan): { keep: number; remove: number; bytes: number } {
  let keep = 0;
  let remove = 0;
  let bytes = 0;
  for (const g of plan.groups) {
    for (let i = 0; i < g.ids.length; i++) {
      if (g.keep[i] === 1) keep++;
      else remove++;
    }
    bytes += g.removedBytes;
  }
  return { keep, remove, bytes };
}

/**
 * Targets where the plan removes every backup that passed a restore drill while require_verified
 * is off (so unverified backups count as good and pushed the drilled one out): worth a word.
 */
function drillWarnings(db: CatalogDb, plan: PrunePlan, config: BattConfig): string[] {
  const drilled = drilledItems(db);
  if (drilled.size === 0) return [];
  const warnings: string[] = [];
  for (const g of plan.groups) {
    if (((config.services[g.service]?.require_verified as boolean | undefined) ?? config.require_verified) === true) continue;
    const removed = g.ids.filter((id, i) => g.keep[i] === 0 && drilled.has(id));
    if (removed.length === 0 || g.ids.some((id, i) => g.keep[i] === 1 && drilled.has(id))) continue;
    const runs = removed.map((id) => drilled.get(id)).join(', ');
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
  const lock = args.dryRun ? undefined : acquireLock(app.home.root);
  const db = await openCatalog(app.home.catalog);
  // Removals go to the day's log file as well as the catalog; on stderr only with errors.
  const log: Logger = openLog(app, { quiet: true, json: args.json }, collectSecrets(config, process.env)).scoped(args.command);
  try {
    const roots = destinationRoots(db, config, defaultDestination(app.home.root));
    if (!args.dryRun) {
      markAbortedRuns(db);
      for (const done of await finishInterruptedPrunes(db, () => roots)) {
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
      if (args.json) printJson({ dryRun: true, rules: plan.rules, untouched: plan.untouched, planMs: Math.round(plan.planMs), ...total, warnings, backups: jsonItems(plan, db) });
      else {
        printPlan(plan, args, db);
        out`would remove ${total.remove} backups (${humanBytes(total.bytes)}) and keep ${total.keep}; planned in ${(plan.planMs / 1000).toFixed(2)}s\n`;
      }
      return 0;
    }
    if (!args.json && !args.quiet) printPlan(plan, args, db);
    // Listed before the removal: the rows that say which run a backup belonged to go with it.
    const listing = args.json ? jsonItems(plan, db) : [];
    // The log hears the rules, each removal and the result from the prune's events.
    const result = await runPrune({ db, config, services, targets, flags, now }, plan, roots, { log, warnings });
    refusedOutside(result.refused, roots, log);
    const orphans = result.removed ? findOrphans(db, result.folders) : [];
    if (args.json) {
      printJson({ dryRun: false, rules: plan.rules, untouched: plan.untouched, planMs: Math.round(plan.planMs), ...total, ...result, orphans, warnings, backups: listing });
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

function jsonItems(plan: PrunePlan, db: CatalogDb): object[] {
  return plan.groups.flatMap((g) => {
    const details = itemDetails(db, g.ids);
    return g.ids.map((id, i) => ({
      itemId: id,
      runId: details.get(id)?.runId,
      service: g.service,
      target: g.target,
      time: new Date(g.times[i]).toISOString(),
      bytes: details.get(id)?.bytes,
      ...decisionOf(g, i),
    }));
  });
}
