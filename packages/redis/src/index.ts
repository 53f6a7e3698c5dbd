/**
 * The `redis` service: one RDB snapshot per server, fetched with `redis-cli --rdb` and checked
 * with `redis-check-rdb` before batt streams it into its pipeline; key counts per logical
 * database are recorded. Restore into an empty server has the server load the snapshot itself,
 * as batt's replica (replica.ts); otherwise a private scratch redis-server is started on the
 * snapshot and the keys, TTLs included, are copied into the target server with DUMP and RESTORE
 * (only the databases named with --redis-db, when some are).
 */
import { defineConfigKeys, definePlugin, serverKeys, type PluginContext } from '@batt/core/kit';
import { backup, listTargets } from './backup.js';
import { doctor } from './doctor.js';
import { planRestore, restore, restoreTest, verify } from './restore.js';

export * from './args.js';

export const redisKeys = defineConfigKeys({
  ...serverKeys('redis', 'server host (default 127.0.0.1; port 6379)', ' or REDISCLI_AUTH'),
  servers: { type: 'string[]', describe: 'more servers to back up, as host:port' },
});

/** The context the redis service's functions get: `ctx.config` typed from redisKeys. */
export type RedisContext = PluginContext<typeof redisKeys>;

export const redisPlugin = definePlugin({
  name: 'redis',
  summary: 'Redis servers, as a checked RDB snapshot each',
  targetOption: { name: 'redis-db', describe: 'a logical database number to restore later (repeatable); implies the redis service' },
  configKeys: redisKeys,
  extension: '.rdb',

  listTargets,
  backup,
  planRestore,
  restore,
  verify,
  restoreTest,
  doctor,
});

export default redisPlugin;
