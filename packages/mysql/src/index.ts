/**
 * The `mysql` service (MySQL and MariaDB): one mysqldump per database, in parallel up to -j,
 * with routines, triggers and events. InnoDB databases are dumped in one transaction; a
 * database with MyISAM/Aria tables is dumped under table locks, or refused, as configured.
 * Credentials reach the clients only through a 0600 option file, never the command line.
 */
import { databaseKeys, defineConfigKeys, definePlugin, serverKeys, type PluginContext } from '@batt/core/kit';
import { backup, listTargets } from './backup.js';
import { doctor } from './doctor.js';
import { planRestore, removeRestored, restore, restoreTest, verify } from './restore.js';

export * from './args.js';
export { sessionQuery, warmUp } from './client.js';
export * from './checks.js';
export * from './dump-filter.js';
export * from './dump-rows.js';

export const mysqlKeys = defineConfigKeys({
  ...serverKeys('mysql', 'server host name or address'),
  socket: { type: 'string', describe: 'server Unix socket' },
  connect_timeout: { type: 'number', min: 1, max: 3600, integer: true, describe: 'seconds the mysql client waits for the server to answer a new connection [15]' },
  ...databaseKeys('all but the system schemas'),
  include_system: { type: 'boolean', describe: 'also back up the `mysql` system schema (users, grants)' },
  non_transactional: { type: 'enum', values: ['lock', 'fail'], describe: 'MyISAM/Aria tables: lock them for the dump (default) or fail the item' },
  ssl_mode: { type: 'enum', values: ['disabled', 'preferred', 'required', 'verify_ca', 'verify_identity'], describe: 'TLS to the server' },
  ssl_ca: { type: 'string', describe: 'CA certificate file' },
  ssl_cert: { type: 'string', describe: 'client certificate file' },
  ssl_key: { type: 'string', describe: 'client key file' },
});

/** The context the mysql service's functions get: `ctx.config` typed from mysqlKeys. */
export type MysqlContext = PluginContext<typeof mysqlKeys>;

export const mysqlPlugin = definePlugin({
  name: 'mysql',
  canReplace: true,
  aliases: ['mariadb'],
  summary: 'MySQL and MariaDB databases, one mysqldump each',
  targetOption: { name: 'mysql-db', describe: 'a database to back up (repeatable); implies the mysql service' },
  configKeys: mysqlKeys,
  extension: '.sql',

  listTargets,
  backup,
  restoreInto: (target, runId) => `${target}_restore_${runId}`,
  planRestore,
  restore,
  verify,
  restoreTest,
  removeRestored,
  doctor,
});

export default mysqlPlugin;
