/**
 * The `mongodb` service: `mongodump --archive` per database into batt's pipeline, or the whole
 * instance with `--oplog` on a replica set (a point-in-time dump needs the oplog, which only
 * works for whole-instance dumps). The password goes into a 0600 --config file, never argv.
 */
import { defineConfigKeys, definePlugin, serverKeys, type PluginContext } from '@batt/core/kit';
import { ALL } from './args.js';
import { backup, listTargets } from './backup.js';
import { doctor } from './doctor.js';
import { planRestore, restore, verify } from './restore.js';

export * from './args.js';
export * from './archive-check.js';

export const mongodbKeys = defineConfigKeys({
  uri: { type: 'string', describe: 'connection string (kept in the 0600 config file, not on the command line)' },
  ...serverKeys('mongodb', 'server host, or replicaSet/host1,host2'),
  auth_database: { type: 'string', describe: 'authentication database (default admin)' },
  databases: { type: 'string[]', describe: 'databases to back up (default: the whole instance as one archive)' },
  replica_set: { type: 'boolean', describe: 'the server is a replica set: whole-instance dumps take the oplog (--oplog) for a point-in-time copy' },
  tls: { type: 'boolean', describe: 'connect with TLS' },
});

/** The context the mongodb service's functions get: `ctx.config` typed from mongodbKeys. */
export type MongodbContext = PluginContext<typeof mongodbKeys>;

export const mongodbPlugin = definePlugin({
  name: 'mongodb',
  aliases: ['mongo'],
  summary: 'MongoDB databases, as a mongodump archive each',
  targetOption: { name: 'mongodb-db', describe: 'a database to back up (repeatable); implies the mongodb service' },
  configKeys: mongodbKeys,
  extension: '.archive',

  listTargets,
  backup,
  verify,
  restoreInto: (target, runId) => (target === ALL ? 'the whole instance' : `${target}_restore_${runId}`),
  planRestore,
  restore,
  doctor,
});

export default mongodbPlugin;
