/**
 * The `mongodb` service: `mongodump --archive` per database into batt's pipeline, or the whole
 * instance with `--oplog` on a replica set (a point-in-time dump needs the oplog, which only
 * works for whole-instance dumps). The password goes into a 0600 --config file, never argv.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BattError, compareCounts, definePlugin, passwordOf, privateFile, serverKeys, spawnTool, stderrText, toolFailure, toolVersion } from '@batt/core/kit';
import { ALL, configFile, dumpArgs, restoreArgs, type Connection } from './args.js';
import { ArchiveCheck } from './archive-check.js';

export * from './args.js';
export * from './archive-check.js';

function connectionOf(config: Record<string, unknown>): Connection {
  const password = passwordOf('mongodb', config);
  return {
    uri: config.uri as string | undefined,
    host: config.host as string | undefined,
    port: config.port as number | undefined,
    user: config.user as string | undefined,
    password,
    authDatabase: config.auth_database as string | undefined,
    tls: config.tls === true,
  };
}

const secretsFile = (home: string, conn: Connection): { path: string; dispose(): void } => privateFile(home, 'mongo-', 'mongo.yaml', configFile(conn));

function explain(error: BattError): BattError {
  if (/Authentication failed|auth error/i.test(error.message))
    return new BattError('TOOL_FAILED', `mongodb: authentication failed: ${error.message}`, {
      hint: 'check mongodb.user and mongodb.password (or BATT_MONGODB_USER / BATT_MONGODB_PASSWORD)',
    });
  if (/no reachable servers|connection refused|server selection error/i.test(error.message))
    return new BattError('TOOL_FAILED', `mongodb: cannot reach the server: ${error.message}`, { hint: 'check mongodb.host/port or mongodb.uri, and that the server runs' });
  return error;
}

export const mongodbPlugin = definePlugin({
  name: 'mongodb',
  aliases: ['mongo'],
  summary: 'MongoDB databases, as a mongodump archive each',
  targetOption: { name: 'mongodb-db', describe: 'a database to back up (repeatable); implies the mongodb service' },
  configKeys: {
    uri: { type: 'string', describe: 'connection string (kept in the 0600 config file, not on the command line)' },
    ...serverKeys('mongodb', 'server host, or replicaSet/host1,host2'),
    auth_database: { type: 'string', describe: 'authentication database (default admin)' },
    databases: { type: 'string[]', describe: 'databases to back up (default: the whole instance as one archive)' },
    replica_set: { type: 'boolean', describe: 'the server is a replica set: whole-instance dumps take the oplog (--oplog) for a point-in-time copy' },
    tls: { type: 'boolean', describe: 'connect with TLS' },
  },
  extension: '.archive',

  async listTargets(ctx, requested) {
    const named = requested.length ? requested : ((ctx.config.databases as string[] | undefined) ?? []);
    return named.length ? [...new Set(named)] : [ALL];
  },

  async backup(ctx, database) {
    const conn = connectionOf(ctx.config);
    const file = secretsFile(ctx.home, conn);
    const version = await toolVersion('mongodump');
    const check = new ArchiveCheck();
    return {
      command: 'mongodump',
      args: dumpArgs(file.path, conn, database, ctx.config.replica_set === true),
      debianPackage: 'mongodb-database-tools',
      through: check,
      finish(result) {
        if (result.failed) throw explain(toolFailure('mongodump', result, 'mongodb-database-tools'));
        if (check.problem) {
          throw new BattError('TOOL_FAILED', `mongodump exited 0 but its archive of "${database}" is not whole (${check.problem}): it is truncated`, {
            hint: 'check the server log and the disk; run again',
          });
        }
        const log = stderrText(result);
        const done = /done dumping|dumped \d+ documents?/i.exec(log);
        // Documents per collection, counted in the archive itself, kept as rowCounts so a sharp
        // drop marks the backup suspect, as for the SQL services.
        const counts = Object.entries(check.documents);
        const facts = {
          oplog: database === ALL && ctx.config.replica_set === true,
          collections: counts.length || undefined,
          rowCounts: counts.length ? Object.fromEntries(counts) : undefined,
        };
        return { toolVersion: version, facts, warnings: done ? [] : log.split('\n').filter((l) => /warn|error/i.test(l)) };
      },
      dispose: () => file.dispose(),
    };
  },

  async verify(_ctx, _target, source) {
    const check = new ArchiveCheck();
    await pipeline(source.open(), check, new Writable({ write: (_c, _e, cb) => cb() }));
    return [
      {
        name: 'archive',
        ok: !check.problem,
        detail: check.problem ? `the archive is not whole: ${check.problem}` : `${Object.keys(check.documents).length} collections, each to its EOF`,
      },
      compareCounts('documents in the archive', source.facts.rowCounts as Record<string, number> | undefined, check.documents, { group: 'collection', unit: 'document' }),
    ];
  },

  restoreInto: (target, runId) => (target === ALL ? 'the whole instance' : `${target}_restore_${runId}`),

  async planRestore(_ctx, target, into) {
    // No client here can ask a server whether the database exists (mongosh is not packaged):
    // mongorestore itself never drops without --drop (--force).
    return { label: target === ALL ? 'every database of the archive, under its own name' : `database ${into}`, exists: false };
  },

  async restore(ctx, target, source, options) {
    const conn = connectionOf(ctx.config);
    const file = secretsFile(ctx.home, conn);
    try {
      const child = await spawnTool('mongorestore', restoreArgs(file.path, conn, target, options.into, options.force), {
        stdin: source.open(),
        stdout: 'ignore',
        signal: ctx.signal,
        debianPackage: 'mongodb-database-tools',
      });
      const result = await child.result;
      if (result.failed) throw explain(toolFailure('mongorestore', result, 'mongodb-database-tools'));
      const restored = /(\d+) document\(s\) restored successfully/.exec(stderrText(result))?.[1];
      return [{ name: 'mongorestore', ok: true, detail: restored ? `${restored} documents restored` : 'mongorestore exited 0' }];
    } finally {
      file.dispose();
    }
  },
});

export default mongodbPlugin;
