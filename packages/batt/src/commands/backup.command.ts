/** `batt [services..]`: the default command, a backup of every enabled service or the ones named; and quickBackup, its path without yargs. */
import { compressions, type Compression } from '@batt/core/config/schema';
import type { App } from '../app.js';
import { fail, flag, listOf, metricsFileOption, outputOf, parsedStrictly, type Command, type GlobalOptions } from '../options.js';

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

export const backup: Command = (cli, { app, argv, version, done }) => {
  const targets = targetOptions(app);
  return cli.command(
    '$0 [services..]',
    'back up every enabled service, or the ones named',
    (y) => {
      let b = y
        .positional('services', { type: 'string', array: true, describe: 'services to back up (default: the enabled ones)' })
        .option('path', { alias: ['p', 'destination'], type: 'string', describe: 'destination pattern, e.g. /srv/backup/%Y/%m/%d/{service}' })
        .option('compression', { choices: compressions, describe: 'compression of built-in artifacts [zstd]' })
        .option('compression-level', { type: 'number', describe: 'compression level: zstd 1-19, gzip 1-9 [zstd 3, gzip 6]' })
        .option('concurrency', { alias: 'j', type: 'number', describe: 'services/targets at once [cores]' })
        .option('suspect-ok', flag('exit 0, not 3, when a backup is suspect (its size or rows fell sharply)'))
        .option('bundle', { type: 'boolean', describe: "also write the run's artifacts as one tar with a .sha256 file (config: bundle)" })
        .option('metrics-file', metricsFileOption())
        .option('syslog', { type: 'boolean', describe: "also send the run's summary to syslog, the journal (config: log.syslog)" })
        .example('batt', 'back up every enabled service')
        .example('batt file --file /etc --file /var/www', 'back up two folders')
        .example("batt --path '/srv/backup/%Y/%m/%d/%H%M'", 'choose the destination');
      for (const t of targets) b = b.option(t.option, { alias: t.aliases, type: 'string', array: true, describe: t.describe, group: 'Targets:' });
      return b;
    },
    async (a) => done(await runBackup(app, targets, a, argv, version)),
  );
};

type Targets = ReturnType<typeof targetOptions>;

/** The backup the options ask for, whichever parser read them (yargs, or quickBackup). */
async function runBackup(app: App, targets: Targets, a: Record<string, unknown>, argv: readonly string[], version: string): Promise<number> {
  const values = new Map<string, string[]>();
  for (const t of targets) {
    const given = (a[t.option] as string[] | undefined) ?? [];
    const named = [t.option, ...t.aliases].some((o) => argv.some((x) => x === `--${o}` || x.startsWith(`--${o}=`)));
    if (given.some((v) => v === '') || (named && given.length === 0)) fail(`--${t.option} needs a value, e.g. --${t.option} ${t.example}`);
    values.set(t.service, [...(values.get(t.service) ?? []), ...given.map(String)]);
  }
  const concurrency = a.concurrency as number | undefined;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    fail(`--concurrency must be a whole number of at least 1, got ${Number.isNaN(concurrency) ? 'something else' : String(concurrency)}`);
  const level = a['compression-level'] as number | undefined;
  if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 19))
    fail(`--compression-level must be a whole number from 1 to 19 (gzip: 1 to 9), got ${Number.isNaN(level) ? 'something else' : String(level)}`);
  const { backupCommand } = await import('./backup.js');
  return backupCommand(app, {
    services: listOf(a.services),
    targets: values,
    path: a.path as string | undefined,
    compression: a.compression as Compression | undefined,
    compressionLevel: level,
    concurrency,
    suspectOk: a['suspect-ok'] as boolean,
    bundle: a.bundle as boolean | undefined,
    metricsFile: a['metrics-file'] as string | undefined,
    syslog: a.syslog as boolean | undefined,
    ...outputOf(a as unknown as GlobalOptions),
    version,
  });
}

/**
 * A backup without yargs: it is what cron runs every day, and loading and running yargs is a
 * large part of batt's start. Only the plain forms are read here: the backup's own options, the
 * global ones, service names, and each target option with the values after it (as yargs' `array`
 * takes them: `--file /etc /var`). Anything else (help, another command, an unknown or repeated
 * flag, `--no-…`, `--`, a compression batt does not know) returns undefined and goes through
 * yargs, which explains.
 */
export async function quickBackup(app: App, argv: string[], version: string, commands: readonly string[]): Promise<number | undefined> {
  // Short options only as -q, -j N, -jN and -p PATH: yargs reads groups and `-p=…` its own way.
  if (argv.some((x) => /^-[^-]/.test(x) && !/^-(q|j|p|j\d+)$/.test(x))) return undefined;
  const targets = targetOptions(app);
  const arrays = new Map(targets.flatMap((t) => [t.option, ...t.aliases].map((name) => [name, t.option] as const)));
  const parsed = parsedStrictly(argv, {
    ...Object.fromEntries(
      ['home', 'config', 'path', 'destination', 'compression', 'compression-level', 'concurrency', 'metrics-file'].map((n) => [n, { type: 'string' as const }]),
    ),
    ...Object.fromEntries(['json', 'suspect-ok', 'bundle', 'syslog'].map((n) => [n, { type: 'boolean' as const }])),
    quiet: { type: 'boolean', short: 'q' },
    p: { type: 'string', short: 'p' },
    j: { type: 'string', short: 'j' },
    ...Object.fromEntries([...arrays.keys()].map((n) => [n, { type: 'string' as const, multiple: true }])),
  });
  if (!parsed) return undefined;
  const a: Record<string, unknown> = { json: false, quiet: false, 'suspect-ok': false };
  const seen = new Set<string>();
  const services: string[] = [];
  let array: string | undefined; // the target option the values after it go to
  let flag = false; // the token before was a boolean option: yargs would take a `true`/`false` after it as its value
  for (const token of parsed.tokens) {
    if (token.kind === 'option-terminator') return undefined;
    const afterFlag = flag;
    flag = token.kind === 'option' && token.value === undefined && !arrays.has(token.name);
    if (token.kind === 'positional') {
      if (afterFlag && (token.value === 'true' || token.value === 'false')) return undefined;
      // yargs takes a command name anywhere as the command, and `-` as a positional.
      if (commands.includes(token.value) || token.value === '-') return undefined;
      if (array) (a[array] as string[]).push(token.value);
      else services.push(token.value);
      continue;
    }
    const target = arrays.get(token.name);
    if (target) {
      a[target] = [...((a[target] as string[] | undefined) ?? []), ...(token.value === undefined ? [] : [token.value])];
      array = target;
      continue;
    }
    array = undefined;
    const name = ({ p: 'path', destination: 'path', j: 'concurrency', q: 'quiet' } as Record<string, string>)[token.name] ?? token.name;
    if (seen.has(name)) return undefined; // yargs says it was given twice
    seen.add(name);
    a[name] = token.value ?? true;
  }
  if (a.compression !== undefined && !(compressions as readonly string[]).includes(a.compression as string)) return undefined;
  for (const key of ['compression-level', 'concurrency']) if (a[key] !== undefined) a[key] = a[key] === '' ? Number.NaN : Number(a[key]);
  a.services = services;
  return runBackup(app, targets, a, argv, version);
}
