/** `batt prune` (keep rules) and `batt purge` (the original batt's --max-days): removing old backups. */
import type { RuleInput } from '@batt/core/retention/rules';
import { fail, type Command } from '../options.js';

/** --keep-* flags as rule input; counts must be whole numbers of at least 1. */
function keepRules(a: Record<string, unknown>): RuleInput {
  const rules: Record<string, number | string | undefined> = {};
  for (const k of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly']) {
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

export const prune: Command = (cli, { app, done }) =>
  cli.command(
    'prune [services..]',
    'remove old backups by keep rules (OR-ed, as restic forget); files and catalog stay in step',
    (y) =>
      y
        .positional('services', { type: 'string', array: true, describe: 'only these services (default: every service in the catalog)' })
        .option('keep-last', { type: 'number', describe: 'keep the N newest good backups of each target', group: 'Keep rules:' })
        .option('keep-hourly', { type: 'number', describe: 'keep the newest of each of the last N hours with a backup', group: 'Keep rules:' })
        .option('keep-daily', { type: 'number', describe: 'keep the newest of each of the last N days with a backup', group: 'Keep rules:' })
        .option('keep-weekly', { type: 'number', describe: 'keep the newest of each of the last N ISO weeks with a backup', group: 'Keep rules:' })
        .option('keep-monthly', { type: 'number', describe: 'keep the newest of each of the last N months with a backup', group: 'Keep rules:' })
        .option('keep-yearly', { type: 'number', describe: 'keep the newest of each of the last N years with a backup', group: 'Keep rules:' })
        .option('keep-within', { type: 'string', describe: 'keep every good backup younger than this age (30d, 12h, 2w, 6m, 1y)', group: 'Keep rules:' })
        .option('target', { alias: 't', type: 'string', array: true, describe: 'only this database / path (repeatable)' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'show what would go and why each kept backup stays; remove nothing' })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'list every removed backup, not the first few per target' })
        .example('batt prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run', 'see what the usual policy would remove')
        .example('batt prune mysql --keep-last 3', 'keep the 3 newest good backups of each database')
        .epilogue(
          'Rules come from the flags, else from keep_* in the config (per service, else top level).\nOnly good backups count: failed, suspect and (with require_verified) unverified ones never push a\ngood one out, and the newest good backup of every target is never removed. docs/retention.md',
        ),
    async (a) => {
      const rules = keepRules(a as unknown as Record<string, unknown>);
      const { pruneCommand } = await import('./prune.js');
      done(
        await pruneCommand(app, {
          command: 'prune',
          services: (a.services as string[] | undefined) ?? [],
          targets: (a.target as string[] | undefined) ?? [],
          rules,
          dryRun: a['dry-run'] as boolean,
          verbose: a.verbose,
          config: a.config,
          json: a.json,
          quiet: a.quiet,
        }),
      );
    },
  );

export const purge: Command = (cli, { app, done }) =>
  cli.command(
    'purge [services..]',
    "the original batt's purge: remove backups older than --max-days (the newest good one of each target stays)",
    (y) =>
      y
        .positional('services', { type: 'string', array: true, describe: 'only these services (default: all)' })
        .option('max-days', { type: 'number', demandOption: true, describe: 'remove backups older than this many days' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'show what would go; remove nothing' })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'list every removed backup' })
        .example('batt purge --max-days 7', "what the original batt's TODO asked for"),
    async (a) => {
      if (!Number.isInteger(a['max-days']) || (a['max-days'] as number) < 1) fail(`--max-days must be a whole number of days of at least 1, got ${String(a['max-days'])}`);
      const { pruneCommand } = await import('./prune.js');
      done(
        await pruneCommand(app, {
          command: 'purge',
          services: (a.services as string[] | undefined) ?? [],
          targets: [],
          rules: { within: `${a['max-days']}d` },
          dryRun: a['dry-run'] as boolean,
          verbose: a.verbose,
          config: a.config,
          json: a.json,
          quiet: a.quiet,
        }),
      );
    },
  );
