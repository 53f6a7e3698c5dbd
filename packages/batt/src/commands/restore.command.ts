/** `batt restore` and `batt verify`: getting backups back, and proving that they can be. */
import { command, fail, flag, fromOption, identityOption, listOf, metricsFileOption, oneRun, outputOf, targetOption } from '../options.js';

/** --identity, else BATT_AGE_IDENTITY: the age identity file to decrypt with. */
const identityOf = (flag: string | undefined): string | undefined => flag || process.env.BATT_AGE_IDENTITY || undefined;

export const restore = command(
  'restore <run> [service]',
  'restore a backup: databases into a new (or named) database, files into a folder',
  (y) =>
    oneRun(y, 'a run id, or `latest` (the newest run holding a good backup of what you ask for)', 'only this database / path / server (repeatable)')
      .option('into', { type: 'string', describe: 'database to restore into [<target>_restore_<run>]; for redis, host:port' })
      .option('to', { type: 'string', describe: 'folder to restore files into [./batt-restore-<run>]' })
      .option('force', flag('replace an existing database, or overwrite existing files'))
      .option('replace', flag('restore beside --into, check it, then swap it in (mysql, postgresql): a failed restore leaves --into untouched'))
      .option('identity', identityOption())
      .option('from', fromOption())
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'show the plan and check the SHA-256, change nothing' })
      .option('jobs', { type: 'number', describe: 'parallel jobs for pg_restore [cores]' })
      .option('redis-db', { type: 'string', array: true, describe: 'redis: only these logical databases' })
      .example('batt restore latest mysql --target shop', 'restore the newest backup of shop into shop_restore_<run>')
      .example('batt restore 42 file --to /srv/restore', "restore run 42's folders under /srv/restore")
      .example('batt restore latest mysql --target app --into app_test --replace', 'mirror prod: refresh app_test from the newest backup of app')
      .example('batt restore 42 file --from offsite', 'restore run 42 from its copy in the storage offsite')
      .epilogue(
        "Every artifact's SHA-256 is checked against the catalog before anything is touched (with --from,\nthe copy's, fetched into a scratch file). Databases are checked after the restore (tables, CHECK\nTABLE, row counts against the backup). Exit 0 when every restore passed, 1 when one failed, 2 for\nbad usage, an existing target without --force, a --from storage without a copy of a backup, or an\nencrypted backup without the identity that decrypts it.",
      ),
  async (a, { app }) => {
    if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1)) fail(`--jobs must be a whole number of at least 1, got ${String(a.jobs)}`);
    if (a.force && a.replace) fail('--force and --replace do not go together: --replace already swaps the checked copy in');
    const { availableParallelism } = await import('node:os');
    const { restoreCommand } = await import('./restore.js');
    return restoreCommand(app, {
      ref: a.run,
      service: a.service,
      targets: listOf(a.target),
      into: a.into,
      to: a.to,
      force: a.force,
      replace: a.replace,
      dryRun: a['dry-run'] as boolean,
      identityFile: identityOf(a.identity),
      from: a.from,
      jobs: a.jobs ?? availableParallelism(),
      redisDbs: listOf(a['redis-db']).map(String),
      ...outputOf(a),
    });
  },
);

export const verify = command(
  'verify [run]',
  'prove stored backups: SHA-256, SHA256SUMS, format completeness; --restore-test also restores them',
  (y) =>
    y
      .positional('run', { type: 'string', describe: 'a run id or `latest` [latest]' })
      .option('all', flag('every good backup in the catalog'))
      .option('since', { type: 'string', describe: 'backups since a date (2026-11-01) or an age (7d, 12h, 2w)' })
      .option('service', { type: 'string', describe: 'only this service' })
      .option('target', targetOption())
      .option('restore-test', flag('also restore into a scratch database/server/folder and compare with the facts recorded at backup time'))
      .option('identity', identityOption())
      .option('from', fromOption())
      .option('metrics-file', metricsFileOption())
      .example('batt verify', 'verify the newest run')
      .example('batt verify --since 7d --restore-test', 'a weekly restore drill')
      .example('batt verify --all --from offsite', 'prove every copy in the storage "offsite"')
      .epilogue('Exit 0 when every backup passed, 1 when one failed, 2 for bad usage or a --from storage\nwithout a copy of a backup (then nothing is checked).'),
  async (a, { app }) => {
    if (a.run !== undefined && (a.all || a.since)) fail('give a run, or --all / --since, not both');
    let since: Date | undefined;
    if (a.since !== undefined) {
      const { parseSince } = await import('@batt/core/restore/select');
      since = parseSince(a.since);
      if (!since) fail(`--since takes a date (2026-11-01) or an age (7d, 12h, 2w), got "${a.since}"`);
    }
    const { verifyCommand } = await import('./restore.js');
    return verifyCommand(app, {
      ref: a.run,
      all: a.all,
      since,
      service: a.service,
      targets: listOf(a.target),
      restoreTest: a['restore-test'] as boolean,
      identityFile: identityOf(a.identity),
      from: a.from,
      metricsFile: a['metrics-file'] as string | undefined,
      ...outputOf(a),
    });
  },
);
