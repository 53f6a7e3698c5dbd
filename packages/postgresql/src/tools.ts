/**
 * Which binary runs a PostgreSQL client tool. On Debian, psql, pg_dump, pg_dumpall and
 * pg_restore on PATH are links to pg_wrapper, a Perl script that picks a version and then execs
 * /usr/lib/postgresql/<version>/bin/<tool>: some 50 ms of Perl before every call. batt asks each
 * tool's version once per run, through the wrapper, and then runs that version's binary itself
 * where the wrapper would change nothing but the time (see wrapperLeavesConnection). Anything
 * else on PATH (another build, a stand-in script) runs as it is.
 */
import { realpathSync } from 'node:fs';
import { toolVersion, which } from '@batt/core/kit';
import { PG_WRAPPER, wrappedBinary, wrapperEnv, wrapperLeavesConnection, type Connection } from './args.js';

export interface PgTool {
  /** What to run: the tool's name, or the binary the wrapper would have run. */
  file: string;
  /** Environment the binary needs in the wrapper's stead. */
  env: NodeJS.ProcessEnv;
}

export async function pgTool(tool: string, conn: Connection): Promise<PgTool> {
  const found = which(tool);
  if (!found || realpathSync(found) !== PG_WRAPPER || !wrapperLeavesConnection(conn, process.env)) return { file: tool, env: {} };
  const binary = wrappedBinary(tool, await toolVersion(tool));
  return binary && which(binary) ? { file: binary, env: wrapperEnv(process.env) } : { file: tool, env: {} };
}
