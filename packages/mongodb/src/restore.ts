/** The restore side: verify (the archive read to its end), planRestore and mongorestore. */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareCounts, stderrText, toolFailure, type Check, type RestoreOptions, type RestorePlan, type RestoreSource } from '@batt/core/kit';
import { ALL, restoreArgs } from './args.js';
import { ArchiveCheck } from './archive-check.js';
import { connectionOf, explain, secretsFile } from './session.js';
import type { MongodbContext } from './index.js';

export async function verify(_ctx: MongodbContext, _target: string, source: RestoreSource): Promise<Check[]> {
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
}

export async function planRestore(_ctx: MongodbContext, target: string, into: string): Promise<RestorePlan> {
  // No client here can ask a server whether the database exists (mongosh is not packaged):
  // mongorestore itself never drops without --drop (--force).
  return { label: target === ALL ? 'every database of the archive, under its own name' : `database ${into}`, exists: false };
}

export async function restore(ctx: MongodbContext, target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const conn = connectionOf(ctx.config);
  const file = secretsFile(ctx.home, conn);
  try {
    const child = await ctx.exec.spawn('mongorestore', restoreArgs(file.path, conn, target, options.into, options.force), {
      stdin: source.open(),
      stdout: 'ignore',
      debianPackage: 'mongodb-database-tools',
    });
    const result = await child.result;
    if (result.failed) throw explain(toolFailure('mongorestore', result, 'mongodb-database-tools'));
    const restored = /(\d+) document\(s\) restored successfully/.exec(stderrText(result))?.[1];
    return [{ name: 'mongorestore', ok: true, detail: restored ? `${restored} documents restored` : 'mongorestore exited 0' }];
  } finally {
    file.dispose();
  }
}
