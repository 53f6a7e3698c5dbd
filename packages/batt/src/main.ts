/**
 * The batt command line: parses arguments with yargs, runs one command, and maps whatever went
 * wrong to one message, a hint and an exit code. Only bin/batt.js sets the process's exit code.
 */
import { parseArgs } from 'node:util';
import chalk from 'chalk';
import { runStatuses, type RunStatus } from '@batt/core/catalog/statuses';
import { compressions, type Compression } from '@batt/core/config/schema';
import { BattError, exitCodeFor } from '@batt/core/errors/errors';
import { printable } from '@batt/core/run/printable';
import type { RuleInput } from '@batt/core/retention/rules';
import type { App } from './app.js';
import type { ListWhich } from './commands/services.js';
import { givenTwice, usageError } from './usage.js';

/** The subcommands, for naming the one a usage error is about. */
const commands = ['list', 'enable', 'disable', 'runs', 'show', 'catalog', 'accept', 'restore', 'prune', 'purge', 'verify'];

const epilogue = (specifiers: readonly string[]): string => `Exit codes: 0 all good; 1 some backup, restore or verify failed; 2 bad usage or
configuration, or a restore target that exists without --force; 3 every backup was written but one
is suspect (its size or rows fell sharply; --suspect-ok exits 0); 75 another batt run holds this
home's lock; 130 interrupted.

Destination patterns take strftime specifiers (${specifiers.join(' ')}) and the
placeholders {service} and {host}; /{service} is appended when absent.
Docs: docs/usage.md, docs/configuration.md, docs/scripts.md, docs/restore.md, docs/retention.md`;

/**
 * `batt runs …` without yargs or the plugins: the catalog listing is what scripts and monitors
 * call most, so it answers in about the time node takes to start. Anything unusual (help, an
 * unknown or malformed flag) returns undefined and goes through the full parser, which explains.
 */
async function quickRuns(argv: string[]): Promise<number | undefined> {
  if (!argv.includes('runs')) return undefined;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      tokens: true,
      options: {
        home: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        service: { type: 'string' },
        status: { type: 'string' },
        last: { type: 'string' },
      },
    });
  } catch {
    return undefined;
  }
  const { values, positionals } = parsed;
  // A flag given twice: the full parser says so (parseArgs would keep the last one quietly).
  const names = parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []));
  if (new Set(names).size !== names.length) return undefined;
  const last = values.last === undefined ? 20 : Number(values.last);
  if (positionals.length !== 1 || positionals[0] !== 'runs' || !Number.isInteger(last) || last < 1) return undefined;
  if (values.status !== undefined && !(runStatuses as readonly string[]).includes(values.status)) return undefined;
  // A service name may be an alias or a script's: only the full parser, with the plugins, knows.
  if (values.service !== undefined) return undefined;
  const [{ ensureHome, resolveHome }, { runsCommand }] = await Promise.all([import('@batt/core/home/home'), import('./commands/catalog.js')]);
  const home = ensureHome(resolveHome(values.home));
  return runsCommand(home.catalog, { service: values.service, status: values.status as RunStatus | undefined, last, json: values.json ?? false });
}

/** The option that names a service's targets: the plugin's, or --<name>-db for scripts. */
function targetOptions(app: App): { option: string; aliases: string[]; service: string; describe: string; example: string }[] {
  return app.services.map((s) =>
    s.plugin
      ? {
          option: s.plugin.targetOption.name,
          aliases: [...(s.plugin.targetOption.aliases ?? [])],
          service: s.name,
          describe: s.plugin.targetOption.describe,
          example: s.plugin.targetsArePaths ? '/etc' : 'NAME',
        }
      : { option: `${s.name}-db`, aliases: [], service: s.name, describe: `an argument for the ${s.name} script (repeatable); implies ${s.name}`, example: 'NAME' },
  );
}

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

function fail(message: string): never {
  throw new BattError('USAGE', message, { hint: 'see `batt --help`' });
}

interface ParserOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  array: string[];
}

/**
 * yargs turns a flag given twice into a list. Where one value is expected (--path, --compression,
 * --config, …) that is a usage error, never a silent pick of one: only the repeatable flags
 * (declared as arrays: --file, --target, …) may repeat. Booleans given twice stay booleans.
 */
function onceEach(parsed: Record<string, unknown>, options: ParserOptions, argv: readonly string[]): void {
  const aliases = new Set(Object.values(options.alias).flat());
  for (const key of Object.keys(options.key)) {
    const value = parsed[key];
    if (!Array.isArray(value) || aliases.has(key) || options.array.includes(key)) continue;
    const names = [key, ...(options.alias[key] ?? [])];
    const flagged = argv.some((a) => names.some((n) => a === `--${n}` || a.startsWith(`--${n}=`) || (n.length === 1 && /^-[^-]/.test(a) && a.includes(n))));
    if (flagged) givenTwice(key, value);
  }
}

/** Runs batt with `argv` (without node and the script); `version` comes from package.json. */
export async function main(argv: string[], version: string): Promise<number> {
  let code = 0;
  try {
    const quick = await quickRuns(argv);
    if (quick !== undefined) return quick;
    const [{ default: yargs }, { loadApp, peekHome }, { supportedSpecifiers }] = await Promise.all([import('yargs'), import('./app.js'), import('@batt/core/destination/expand')]);
    const app = loadApp(peekHome(argv));
    const targets = targetOptions(app);
    const parser = yargs(argv);
    let cli = parser
      .scriptName('batt')
      .usage('batt [services..] [options]\n\nBack up every enabled service, or just the ones named.')
      .version(version)
      .alias('version', 'V')
      .help()
      .alias('help', 'h')
      .strict()
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .middleware((a) => onceEach(a, (parser as unknown as { getOptions(): ParserOptions }).getOptions(), argv), true)
      .fail((message, error) => {
        if (error) throw error;
        const command = argv.find((a) => commands.includes(a)) ?? '';
        // yargs keeps the running command's options on the one instance.
        throw usageError(message, { command, options: Object.keys((cli as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key), argv });
      })
      .epilogue(epilogue(supportedSpecifiers))
      .option('home', { type: 'string', describe: `batt home (scripts, conf, catalog); env BATT_HOME [${printable(app.home.root)}]`, global: true })
      .option('config', { type: 'string', describe: 'read configuration from this file only', global: true })
      .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON', global: true })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'errors only: no progress, plan or summary', global: true });

    cli = cli
      .command(
        '$0 [services..]',
        'back up every enabled service, or the ones named',
        (y) => {
          let b = y
            .positional('services', { type: 'string', array: true, describe: 'services to back up (default: the enabled ones)' })
            .option('path', { alias: ['p', 'destination'], type: 'string', describe: 'destination pattern, e.g. /srv/backup/%Y/%m/%d/{service}' })
            .option('compression', { choices: compressions, describe: 'compression of built-in artifacts [zstd]' })
            .option('compression-level', { type: 'number', describe: 'compression level: zstd 1-19, gzip 1-9 [zstd 3, gzip 6]' })
            .option('concurrency', { alias: 'j', type: 'number', describe: 'services/targets at once [cores]' })
            .option('suspect-ok', { type: 'boolean', default: false, describe: 'exit 0, not 3, when a backup is suspect (its size or rows fell sharply)' })
            .option('bundle', { type: 'boolean', describe: "also write the run's artifacts as one tar with a .sha256 file (config: bundle)" })
            .example('batt', 'back up every enabled service')
            .example('batt file --file /etc --file /var/www', 'back up two folders')
            .example("batt --path '/srv/backup/%Y/%m/%d/%H%M'", 'choose the destination');
          for (const t of targets) b = b.option(t.option, { alias: t.aliases, type: 'string', array: true, describe: t.describe, group: 'Targets:' });
          return b;
        },
        async (a) => {
          const values = new Map<string, string[]>();
          for (const t of targets) {
            const given = (a[t.option] as string[] | undefined) ?? [];
            const named = [t.option, ...t.aliases].some((o) => argv.some((x) => x === `--${o}` || x.startsWith(`--${o}=`)));
            if (given.some((v) => v === '') || (named && given.length === 0)) fail(`--${t.option} needs a value, e.g. --${t.option} ${t.example}`);
            values.set(t.service, [...(values.get(t.service) ?? []), ...given.map(String)]);
          }
          if (a.concurrency !== undefined && (!Number.isInteger(a.concurrency) || a.concurrency < 1))
            fail(`--concurrency must be a whole number of at least 1, got ${Number.isNaN(a.concurrency) ? 'something else' : String(a.concurrency)}`);
          const level = a['compression-level'] as number | undefined;
          if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 19))
            fail(`--compression-level must be a whole number from 1 to 19 (gzip: 1 to 9), got ${Number.isNaN(level) ? 'something else' : String(level)}`);
          const { backupCommand } = await import('./commands/backup.js');
          code = await backupCommand(app, {
            services: (a.services as string[] | undefined) ?? [],
            targets: values,
            path: a.path,
            compression: a.compression as Compression | undefined,
            compressionLevel: level,
            concurrency: a.concurrency,
            suspectOk: a['suspect-ok'] as boolean,
            bundle: a.bundle,
            config: a.config,
            json: a.json,
            quiet: a.quiet,
            version,
          });
        },
      )
      .command(
        'list [which]',
        'list services and where each comes from',
        (y) => y.positional('which', { choices: ['all', 'available', 'enabled', 'disabled'] as const, default: 'all' as const }),
        async (a) => {
          const { listCommand } = await import('./commands/services.js');
          code = listCommand(app, a.which as ListWhich, a.json);
        },
      )
      .command(
        'enable <services..>',
        'enable services for `batt` without arguments (symlink into scripts-enabled/)',
        (y) => y.positional('services', { type: 'string', array: true, demandOption: true }),
        async (a) => {
          const { toggleCommand } = await import('./commands/services.js');
          code = toggleCommand(app, 'enable', a.services as string[], a.json);
        },
      )
      .command(
        'disable <services..>',
        'disable services (remove their scripts-enabled/ link)',
        (y) => y.positional('services', { type: 'string', array: true, demandOption: true }),
        async (a) => {
          const { toggleCommand } = await import('./commands/services.js');
          code = toggleCommand(app, 'disable', a.services as string[], a.json);
        },
      )
      .command(
        'runs',
        'list runs from the catalog, newest first',
        (y) =>
          y
            .option('service', { type: 'string', describe: 'only runs that include this service' })
            .option('status', { choices: runStatuses, describe: 'only runs with this status' })
            .option('last', { type: 'number', default: 20, describe: 'how many runs' }),
        async (a) => {
          if (!Number.isInteger(a.last) || a.last < 1) fail(`--last must be a whole number of at least 1, got ${String(a.last)}`);
          const service = a.service === undefined ? undefined : (app.services.find((s) => s.name === a.service || s.plugin?.aliases?.includes(a.service!))?.name ?? a.service);
          const { runsCommand } = await import('./commands/catalog.js');
          code = await runsCommand(app.home.catalog, { service, status: a.status as RunStatus | undefined, last: a.last, json: a.json });
        },
      )
      .command(
        'show <run>',
        'show one run: items, files, sizes, SHA-256, errors (`latest` for the newest)',
        (y) => y.positional('run', { type: 'string', demandOption: true }),
        async (a) => {
          const { showCommand } = await import('./commands/catalog.js');
          code = await showCommand(app, a.run, a.json);
        },
      )
      .command(
        'catalog <action> [folders..]',
        'check the catalog against the backups on disk, or rebuild it from their manifests',
        (y) =>
          y
            .positional('action', {
              choices: ['check', 'rebuild'] as const,
              demandOption: true,
              describe: 'check: files present, sizes and SHA-256 match, orphans; rebuild: a new catalog from the batt-run-<id>.json manifests',
            })
            .positional('folders', { type: 'string', array: true, describe: 'backup folders to look in [the fixed part of every destination known]' })
            .option('quick', { type: 'boolean', default: false, describe: 'compare sizes only, do not re-hash' })
            .option('any-host', { type: 'boolean', default: false, describe: 'rebuild: also take in runs made on other hosts (a shared backup disk)' })
            .example('batt catalog check', 'is every catalogued backup still on disk and intact?')
            .example('batt catalog rebuild /opt/backup', 'recreate a lost catalog from the manifests'),
        async (a) => {
          const { catalogCheckCommand, catalogRebuildCommand } = await import('./commands/catalog-tools.js');
          const args = { folders: (a.folders as string[] | undefined) ?? [], quick: a.quick, anyHost: a['any-host'] as boolean, config: a.config, json: a.json, quiet: a.quiet };
          code = a.action === 'check' ? await catalogCheckCommand(app, args) : await catalogRebuildCommand(app, args);
        },
      )
      .command(
        'accept <run> [service]',
        "accept a run's suspect backups as good: the drop in size or rows was intended",
        (y) =>
          y
            .positional('run', { type: 'string', demandOption: true, describe: 'the run id `batt runs` shows as suspect' })
            .positional('service', { type: 'string', describe: 'only this service' })
            .option('target', { alias: 't', type: 'string', array: true, describe: 'only this database / path (repeatable)' })
            .example('batt accept 412 mysql --target shop', 'the shop database really did shrink; compare later backups with this one'),
        async (a) => {
          const { acceptCommand } = await import('./commands/catalog-tools.js');
          code = await acceptCommand(app, { run: a.run, service: a.service, targets: (a.target as string[] | undefined) ?? [], json: a.json });
        },
      )
      .command(
        'restore <run> [service]',
        'restore a backup: databases into a new (or named) database, files into a folder',
        (y) =>
          y
            .positional('run', { type: 'string', demandOption: true, describe: 'a run id, or `latest` (the newest run holding a good backup of what you ask for)' })
            .positional('service', { type: 'string', describe: 'only this service' })
            .option('target', { alias: 't', type: 'string', array: true, describe: 'only this database / path / server (repeatable)' })
            .option('into', { type: 'string', describe: 'database to restore into [<target>_restore_<run>]; for redis, host:port' })
            .option('to', { type: 'string', describe: 'folder to restore files into [./batt-restore-<run>]' })
            .option('force', { type: 'boolean', default: false, describe: 'replace an existing database, or overwrite existing files' })
            .option('replace', {
              type: 'boolean',
              default: false,
              describe: 'restore beside --into, check it, then swap it in (mysql, postgresql): a failed restore leaves --into untouched',
            })
            .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'show the plan and check the SHA-256, change nothing' })
            .option('jobs', { type: 'number', describe: 'parallel jobs for pg_restore [cores]' })
            .option('redis-db', { type: 'string', array: true, describe: 'redis: only these logical databases' })
            .example('batt restore latest mysql --target shop', 'restore the newest backup of shop into shop_restore_<run>')
            .example('batt restore 42 file --to /srv/restore', "restore run 42's folders under /srv/restore")
            .example('batt restore latest mysql --target app --into app_test --replace', 'mirror prod: refresh app_test from the newest backup of app')
            .epilogue(
              "Every artifact's SHA-256 is checked against the catalog before anything is touched. Databases\nare checked after the restore (tables, CHECK TABLE, row counts against the backup). Exit 0 when\nevery restore passed, 1 when one failed, 2 for bad usage or an existing target without --force.",
            ),
        async (a) => {
          if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1)) fail(`--jobs must be a whole number of at least 1, got ${String(a.jobs)}`);
          if (a.force && a.replace) fail('--force and --replace do not go together: --replace already swaps the checked copy in');
          const { availableParallelism } = await import('node:os');
          const { restoreCommand } = await import('./commands/restore.js');
          code = await restoreCommand(app, {
            ref: a.run,
            service: a.service,
            targets: (a.target as string[] | undefined) ?? [],
            into: a.into,
            to: a.to,
            force: a.force,
            replace: a.replace,
            dryRun: a['dry-run'] as boolean,
            jobs: a.jobs ?? availableParallelism(),
            redisDbs: ((a['redis-db'] as string[] | undefined) ?? []).map(String),
            config: a.config,
            json: a.json,
            quiet: a.quiet,
          });
        },
      )
      .command(
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
          const { pruneCommand } = await import('./commands/prune.js');
          code = await pruneCommand(app, {
            command: 'prune',
            services: (a.services as string[] | undefined) ?? [],
            targets: (a.target as string[] | undefined) ?? [],
            rules,
            dryRun: a['dry-run'] as boolean,
            verbose: a.verbose,
            config: a.config,
            json: a.json,
            quiet: a.quiet,
          });
        },
      )
      .command(
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
          const { pruneCommand } = await import('./commands/prune.js');
          code = await pruneCommand(app, {
            command: 'purge',
            services: (a.services as string[] | undefined) ?? [],
            targets: [],
            rules: { within: `${a['max-days']}d` },
            dryRun: a['dry-run'] as boolean,
            verbose: a.verbose,
            config: a.config,
            json: a.json,
            quiet: a.quiet,
          });
        },
      )
      .command(
        'verify [run]',
        'prove stored backups: SHA-256, SHA256SUMS, format completeness; --restore-test also restores them',
        (y) =>
          y
            .positional('run', { type: 'string', describe: 'a run id or `latest` [latest]' })
            .option('all', { type: 'boolean', default: false, describe: 'every good backup in the catalog' })
            .option('since', { type: 'string', describe: 'backups since a date (2026-11-01) or an age (7d, 12h, 2w)' })
            .option('service', { type: 'string', describe: 'only this service' })
            .option('target', { alias: 't', type: 'string', array: true, describe: 'only this database / path (repeatable)' })
            .option('restore-test', {
              type: 'boolean',
              default: false,
              describe: 'also restore into a scratch database/server/folder and compare with the facts recorded at backup time',
            })
            .example('batt verify', 'verify the newest run')
            .example('batt verify --since 7d --restore-test', 'a weekly restore drill'),
        async (a) => {
          if (a.run !== undefined && (a.all || a.since)) fail('give a run, or --all / --since, not both');
          let since: Date | undefined;
          if (a.since !== undefined) {
            const { parseSince } = await import('@batt/core/restore/select');
            since = parseSince(a.since);
            if (!since) fail(`--since takes a date (2026-11-01) or an age (7d, 12h, 2w), got "${a.since}"`);
          }
          const { verifyCommand } = await import('./commands/restore.js');
          code = await verifyCommand(app, {
            ref: a.run,
            all: a.all,
            since,
            service: a.service,
            targets: (a.target as string[] | undefined) ?? [],
            restoreTest: a['restore-test'] as boolean,
            config: a.config,
            json: a.json,
            quiet: a.quiet,
          });
        },
      );

    await cli.parseAsync();
    return code;
  } catch (error) {
    return report(error);
  }
}

/** Says what ended the command: one line, and a hint. Names in them are escaped (printable). */
function report(error: unknown): number {
  if (error instanceof BattError) {
    process.stderr.write(`${chalk.red('batt:')} ${printable(error.message)}\n`);
    if (error.hint) process.stderr.write(`${chalk.dim('hint:')} ${printable(error.hint)}\n`);
  } else {
    const e = error as Error;
    process.stderr.write(`${chalk.red('batt: internal error:')} ${printable(String(e?.message ?? error))}\n`);
    if (process.env.BATT_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write(`${chalk.dim('hint:')} set BATT_DEBUG=1 for details, and please report it\n`);
  }
  return exitCodeFor(error);
}
