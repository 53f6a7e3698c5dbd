/**
 * The `postgresql` service (alias `postgres`): `pg_dump -Fc` per non-template database, in
 * parallel up to -j, plus roles and tablespaces from `pg_dumpall --globals-only` as their own
 * item. The password reaches the tools only through a 0600 passfile (PGPASSFILE). A pg_dump
 * older than the server's major version is refused: it cannot dump newer servers correctly.
 */
import { databaseKeys, defineConfigKeys, definePlugin, serverKeys, type PluginContext } from '@batt/core/kit';
import { GLOBALS } from './args.js';
import { backup, listTargets } from './backup.js';
import { doctor } from './doctor.js';
import { planRestore, removeRestored, restore, restoreTest, verify } from './restore.js';

export * from './args.js';

export const postgresqlKeys = defineConfigKeys({
  ...serverKeys('postgresql', 'server host name, address or socket folder (PGHOST works too)'),
  ...databaseKeys('every non-template database'),
  globals: { type: 'boolean', describe: 'also back up roles and tablespaces (default true when backing up all databases)' },
  maintenance_db: { type: 'string', describe: 'database to connect to for listing (default postgres)' },
  ssl_mode: { type: 'enum', values: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'], describe: 'libpq sslmode' },
});

/** The context the postgresql service's functions get: `ctx.config` typed from postgresqlKeys. */
export type PostgresqlContext = PluginContext<typeof postgresqlKeys>;

export const postgresqlPlugin = definePlugin({
  name: 'postgresql',
  canReplace: true,
  aliases: ['postgres'],
  summary: 'PostgreSQL databases (pg_dump -Fc each) and roles (pg_dumpall --globals-only)',
  targetOption: { name: 'postgresql-db', aliases: ['postgres-db'], describe: 'a database to back up (repeatable); implies the postgresql service' },
  configKeys: postgresqlKeys,
  extension: (target: string) => (target === GLOBALS ? '.sql' : '.dump'),

  listTargets,
  backup,
  restoreInto: (target, runId) => (target === GLOBALS ? 'the server' : `${target}_restore_${runId}`),
  planRestore,
  restore,
  verify,
  restoreTest,
  removeRestored,
  doctor,
});

export default postgresqlPlugin;
