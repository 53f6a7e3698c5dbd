/** `batt catalog check|rebuild` and `batt accept`: keeping the catalog true to the backups on disk. */
import type { Command } from '../options.js';

export const catalog: Command = (cli, { app, done }) =>
  cli.command(
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
      const { catalogCheckCommand, catalogRebuildCommand } = await import('./catalog-tools.js');
      const args = { folders: (a.folders as string[] | undefined) ?? [], quick: a.quick, anyHost: a['any-host'] as boolean, config: a.config, json: a.json, quiet: a.quiet };
      done(a.action === 'check' ? await catalogCheckCommand(app, args) : await catalogRebuildCommand(app, args));
    },
  );

export const accept: Command = (cli, { app, done }) =>
  cli.command(
    'accept <run> [service]',
    "accept a run's suspect backups as good: the drop in size or rows was intended",
    (y) =>
      y
        .positional('run', { type: 'string', demandOption: true, describe: 'the run id `batt runs` shows as suspect' })
        .positional('service', { type: 'string', describe: 'only this service' })
        .option('target', { alias: 't', type: 'string', array: true, describe: 'only this database / path (repeatable)' })
        .example('batt accept 412 mysql --target shop', 'the shop database really did shrink; compare later backups with this one'),
    async (a) => {
      const { acceptCommand } = await import('./catalog-tools.js');
      done(await acceptCommand(app, { run: a.run, service: a.service, targets: (a.target as string[] | undefined) ?? [], json: a.json }));
    },
  );
