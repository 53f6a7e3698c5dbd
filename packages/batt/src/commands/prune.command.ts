/** `batt prune` (keep rules) and `batt purge` (the original batt's --max-days): removing old backups. */
import type { RuleInput } from '@batt/core/retention/rules';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { App } from '../app.js';
import { command, fail, listOf, outputOf, targetOption, type GlobalOptions } from '../options.js';

/** The --keep-<rule> counts, in the order --help lists them: what each keeps. */
const keepCounts = {
  last: 'keep the N newest good backups of each target',
  hourly: 'keep the newest of each of the last N hours with a backup',
  daily: 'keep the newest of each of the last N days with a backup',
  weekly: 'keep the newest of each of the last N ISO weeks with a backup',
  monthly: 'keep the newest of each of the last N months with a backup',
  yearly: 'keep the newest of each of the last N years with a backup',
};

/** --keep-* flags as rule input; counts must be whole numbers of at least 1. */
function keepRules(a: Record<string, unknown>): RuleInput {
  const rules: Record<string, number | string | undefined> = {};
  for (const k of Object.keys(keepCounts)) {
    const v = a[`keep-${k}`];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`--keep-${k} must be a whole number of at least 1, got ${Number.isNaN(v) ? 'something else' : String(v)}`);
    rules[k] = v;
  }
  if (a['keep-within'] !== undefined) {
    if (typeof a['keep-within'] !== 'string' || a['keep-within'] === '') fail('--keep-within needs an age, e.g. --keep-within 30d');
    rules.within = a['keep-within'];
  }
  return rules;
}

/** What prune and purge both end with: --dry-run and --verbose, each described its own way. */
function removing<T>(y: Argv<T>, dryRun: string, verbose: string) {
  return y
    .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: dryRun })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: verbose });
}

type RemovingArgs = ArgumentsCamelCase<GlobalOptions & { services?: unknown; 'dry-run': boolean; verbose: boolean }>;

/** Runs prune or purge: the services given, by `rules`, narrowed to `targets`. */
async function remove(app: App, name: 'prune' | 'purge', a: RemovingArgs, rules: RuleInput, targets: string[]): Promise<number> {
  const { pruneCommand } = await import('./prune.js');
  return pruneCommand(app, { command: name, services: listOf(a.services), targets, rules, dryRun: a['dry-run'], verbose: a.verbose, ...outputOf(a) });
}

export const prune = command(
  'prune [services..]',
  'remove old backups by keep rules (OR-ed, as restic forget); files and catalog stay in step',
  (y) => {
    let b = y.positional('services', { type: 'string', array: true, describe: 'only these services (default: every service in the catalog)' });
    for (const [k, describe] of Object.entries(keepCounts)) b = b.option(`keep-${k}`, { type: 'number', describe, group: 'Keep rules:' });
    const keeps = b
      .option('keep-within', { type: 'string', describe: 'keep every good backup younger than this age (30d, 12h, 2w, 6m, 1y)', group: 'Keep rules:' })
      .option('target', targetOption());
    return removing(
      keeps,
      'show what would go and why each kept backup stays; remove nothing',
      'list every backup: every removed one, not the first few per target, and each failed run kept (not one line for them)',
    )
      .example('batt prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run', 'see what the usual policy would remove')
      .example('batt prune mysql --keep-last 3', 'keep the 3 newest good backups of each database')
      .epilogue(
        'Rules come from the flags, else from keep_* in the config (per service, else top level).\nOnly good backups count: failed, suspect and (with require_verified) unverified ones never push a\ngood one out, and the newest good backup of every target is never removed. docs/retention.md',
      );
  },
  (a, { app }) => remove(app, 'prune', a, keepRules(a as unknown as Record<string, unknown>), listOf(a.target)),
);

export const purge = command(
  'purge [services..]',
  "the original batt's purge: remove backups older than --max-days (the newest good one of each target stays)",
  (y) =>
    removing(
      y
        .positional('services', { type: 'string', array: true, describe: 'only these services (default: all)' })
        .option('max-days', { type: 'number', demandOption: true, describe: 'remove backups older than this many days' }),
      'show what would go; remove nothing',
      'list every backup: every removed one, and each failed run kept',
    ).example('batt purge --max-days 7', "what the original batt's TODO asked for"),
  (a, { app }) => {
    if (!Number.isInteger(a['max-days']) || a['max-days'] < 1) fail(`--max-days must be a whole number of days of at least 1, got ${String(a['max-days'])}`);
    return remove(app, 'purge', a, { within: `${a['max-days']}d` }, []);
  },
);
