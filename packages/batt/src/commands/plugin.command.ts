/** `batt plugin test`: the conformance suite of the built-in services, run against a user's own service or drop-in script. */
import { command, flag, listOf, outputOf } from '../options.js';

export const plugin = command(
  'plugin <action> <service>',
  'test a service end to end: back up, verify, drill, restore into a new target, compare, refuse',
  (y) =>
    y
      .usage(
        `batt plugin test <service>

Runs the suite batt's own services pass against your server or your drop-in script pair
(backup-<name>, restore-<name>): back up, verify (SHA-256, SHA256SUMS, the format's checks), a
restore drill, a restore into a new target, compare it with what the backup recorded, refuse to
restore over existing data without --force, refuse an artifact with one flipped byte. One line a
step: ok, FAILED with the reason, or skipped with why.

Everything happens in a scratch home under $TMPDIR that is removed afterwards: your catalog,
backups, storages, notifications and hooks are not touched. The service's connection settings
come from your configuration. Databases are restored under new names (batt_plugin_test_…) and
dropped again; a drop-in's restore gets a new scratch folder as BATT_INTO. Exit 0 when no step
failed, 1 when one did. Docs: docs/scripts.md, "Testing a service"`,
      )
      .positional('action', { choices: ['test'] as const, demandOption: true, describe: 'test: run the suite' })
      .positional('service', {
        type: 'string',
        demandOption: true,
        describe: 'a service of this home (mysql, a drop-in name), or the path of a backup-<name> script (its restore-<name> beside it)',
      })
      .option('target', { alias: 't', type: 'string', array: true, describe: 'what to back up (repeatable), as --<service>-db would take it [the service default]' })
      .option('into', { type: 'string', describe: 'restore into this instead of a new name: for redis, host:port of an empty scratch server' })
      .option('keep', flag('keep the scratch home, its backups and the restored copy, and say where'))
      .example('batt plugin test mysql --target shop', 'back up the database shop, restore it as batt_plugin_test_…, compare, drop it')
      .example('batt plugin test ./backup-sqlite --target /var/lib/app.db', 'a drop-in pair before it goes into scripts-available/')
      .example('batt plugin test redis --into 127.0.0.1:6380', 'redis restores into a server: give an empty one'),
  async (a, { app }) => {
    const { pluginTestCommand } = await import('./plugin-test.js');
    return pluginTestCommand(app, { subject: a.service, targets: listOf(a.target), into: a.into, keep: a.keep, ...outputOf(a) });
  },
);
