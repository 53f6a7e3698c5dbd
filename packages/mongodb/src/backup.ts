/** The backup side: the databases to back up, and mongodump with the check of its archive. */
import { BattError, stderrText, toolFailure, toolVersion, type BackupCommand } from '@batt/core/kit';
import { ALL, dumpArgs } from './args.js';
import { ArchiveCheck } from './archive-check.js';
import { connectionOf, explain, secretsFile } from './session.js';
import type { MongodbContext } from './index.js';

export async function listTargets(ctx: MongodbContext, requested: readonly string[]): Promise<string[]> {
  const named = requested.length ? requested : (ctx.config.databases ?? []);
  return named.length ? [...new Set(named)] : [ALL];
}

export async function backup(ctx: MongodbContext, database: string): Promise<BackupCommand> {
  const conn = connectionOf(ctx.config);
  const file = secretsFile(ctx.home, conn);
  // Asked beside the dump, not before it: the version only goes into the item's facts.
  const version = toolVersion('mongodump');
  const check = new ArchiveCheck();
  return {
    command: 'mongodump',
    args: dumpArgs(file.path, conn, database, ctx.config.replica_set === true),
    debianPackage: 'mongodb-database-tools',
    through: check,
    async finish(result) {
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
      return { toolVersion: await version, facts, warnings: done ? [] : log.split('\n').filter((l) => /warn|error/i.test(l)) };
    },
    dispose: () => file.dispose(),
  };
}
