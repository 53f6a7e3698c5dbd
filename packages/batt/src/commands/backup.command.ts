/** `batt [services..]`: the default command, a backup of every enabled service or the ones named. */
import { compressions, type Compression } from '@batt/core/config/schema';
import type { App } from '../app.js';
import { fail, listOf, metricsFileOption, outputOf, type Command } from '../options.js';

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
        .option('suspect-ok', { type: 'boolean', default: false, describe: 'exit 0, not 3, when a backup is suspect (its size or rows fell sharply)' })
        .option('bundle', { type: 'boolean', describe: "also write the run's artifacts as one tar with a .sha256 file (config: bundle)" })
        .option('metrics-file', metricsFileOption())
        .option('syslog', { type: 'boolean', describe: "also send the run's summary to syslog, the journal (config: log.syslog)" })
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
      const { backupCommand } = await import('./backup.js');
      done(
        await backupCommand(app, {
          services: listOf(a.services),
          targets: values,
          path: a.path,
          compression: a.compression as Compression | undefined,
          compressionLevel: level,
          concurrency: a.concurrency,
          suspectOk: a['suspect-ok'] as boolean,
          bundle: a.bundle,
          metricsFile: a['metrics-file'] as string | undefined,
          syslog: a.syslog as boolean | undefined,
          ...outputOf(a),
          version,
        }),
      );
    },
  );
};
