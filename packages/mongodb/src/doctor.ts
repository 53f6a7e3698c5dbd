/**
 * `batt doctor` for the mongodb service: mongodump present, and the connection with batt's
 * credentials, proven by a dump of a database that does not exist (mongodump connects and
 * authenticates, then has nothing to write). batt has no mongo shell to ask more: whether the
 * user holds the `backup` role shows in the first real dump.
 */
import { DoctorChecks, toolFailure, toolVersion, which, type DoctorCheck } from '@batt/core/kit';
import { ALL, dumpArgs } from './args.js';
import { listTargets } from './backup.js';
import { connectionOf, explain, secretsFile } from './session.js';
import type { MongodbContext } from './index.js';

/** A database name no one has: the probe dump reads nothing. */
const probeDatabase = 'batt_doctor_probe_0';

export async function doctor(ctx: MongodbContext): Promise<DoctorCheck[]> {
  const checks = new DoctorChecks();
  const found = await checks.run('client tools', async () => {
    if (!which('mongodump')) throw toolFailure('mongodump', { failed: true, code: 'ENOENT' }, 'mongodb-database-tools');
    return (await toolVersion('mongodump')) ?? 'mongodump';
  });
  if (!found) return checks.all;
  const conn = connectionOf(ctx.config);
  const file = secretsFile(ctx.home, conn);
  try {
    const connected = await checks.run('connection', async () => {
      const child = await ctx.exec.spawn('mongodump', dumpArgs(file.path, conn, probeDatabase, false), { stdout: 'ignore', debianPackage: 'mongodb-database-tools' });
      const result = await child.result;
      if (result.failed) throw explain(toolFailure('mongodump', result, 'mongodb-database-tools'));
      return `${conn.uri ? 'the configured uri' : `${conn.host ?? 'localhost'}:${conn.port ?? 27017}`}: connected${conn.user ? ` as ${conn.user}` : ''}`;
    });
    if (!connected) return checks.all;
    await checks.run('targets', async () => {
      const targets = await listTargets(ctx, []);
      return targets[0] === ALL ? `the whole instance${ctx.config.replica_set === true ? ', with the oplog' : ''}` : `${targets.length} database(s): ${targets.join(', ')}`;
    });
    return checks.all;
  } finally {
    file.dispose();
  }
}
