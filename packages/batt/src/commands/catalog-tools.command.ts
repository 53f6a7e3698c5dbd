/** `batt catalog check|rebuild` and `batt accept`: keeping the catalog true to the backups on disk. */
import { command, flag, listOf, oneRun, outputOf } from '../options.js';

export const catalog = command(
  'catalog <action> [folders..]',
  'check the catalog against the backups on disk, or rebuild it from their manifests',
  (y) =>
    y
      .positional('action', {
        choices: ['check', 'rebuild'] as const,
        demandOption: true,
        describe: 'check: files and their copies present, sizes and SHA-256 match, orphans; rebuild: a new catalog from the batt-run-<id>.json manifests',
      })
      .positional('folders', { type: 'string', array: true, describe: 'backup folders to look in [the fixed part of every destination known]' })
      .option('quick', flag('compare sizes only, do not re-hash'))
      .option('any-host', flag('rebuild: also take in runs made on other hosts (a shared backup disk)'))
      .option('from', {
        type: 'string',
        describe:
          'rebuild: read the manifests copied to this storage (a name under storage:) instead of the backup folders; local files come back where they are intact, the rest is fetched when needed',
      })
      .example('batt catalog check', 'is every catalogued backup still on disk and intact?')
      .example('batt catalog rebuild /opt/backup', 'recreate a lost catalog from the manifests')
      .example('batt catalog rebuild --from offsite', 'the machine died: recreate the catalog from the manifests in the offsite bucket'),
  async (a, { app }) => {
    const { catalogCheckCommand, catalogRebuildCommand } = await import('./catalog-tools.js');
    const args = { folders: listOf(a.folders), quick: a.quick, anyHost: a['any-host'] as boolean, from: a.from, ...outputOf(a) };
    return a.action === 'check' ? catalogCheckCommand(app, args) : catalogRebuildCommand(app, args);
  },
);

export const accept = command(
  'accept <run> [service]',
  "accept a run's suspect backups as good: the drop in size or rows was intended",
  (y) =>
    oneRun(y, 'the run id `batt runs` shows as suspect').example('batt accept 412 mysql --target shop', 'the shop database really did shrink; compare later backups with this one'),
  async (a, { app }) => {
    const { acceptCommand } = await import('./catalog-tools.js');
    return acceptCommand(app, { run: a.run, service: a.service, targets: listOf(a.target), json: a.json });
  },
);
