/** The backup side: the databases to back up, and pg_dump or pg_dumpall with the checks of its output. */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BattError, keepTail, stderrText, teeTo, toolFailure, toolVersion, type BackupCommand, type ToolProcess } from '@batt/core/kit';
import { CopyCounter } from './copy-count.js';
import { conninfo, dumpArgs, GLOBALS, globalsArgs, majorOf } from './args.js';
import { globalsTrailer } from './globals.js';
import { explain, maintenanceDb, psql, serverFacts, session } from './session.js';
import { pgTool, type PgTool } from './tools.js';
import type { PostgresqlContext } from './index.js';

/** Passes the bytes on unchanged and keeps the last few hundred: pg_dumpall's trailer. */
class Tail extends Transform {
  tail: Buffer = Buffer.alloc(0);
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error: null, chunk: Buffer) => void): void {
    this.tail = keepTail(this.tail, chunk, 512);
    callback(null, chunk);
  }
}

/**
 * pg_restore reading the archive as it is written, to its end, every data block included (no
 * server): a pg_dump that exits 0 with its archive cut short is caught, as a table whose data
 * block never comes. Its data comes out as COPY blocks, whose rows are counted: the facts of the
 * dump's own snapshot.
 */
async function archiveReader(ctx: PostgresqlContext, tool: PgTool): Promise<{ reader: ToolProcess; counter: CopyCounter; counted: Promise<void> }> {
  const reader = await ctx.exec.spawn(tool.file, ['--data-only', '--file=-'], { stdin: 'pipe', stdout: 'pipe', env: tool.env, debianPackage: 'postgresql-client' });
  if (!reader.stdin || !reader.stdout) throw toolFailure('pg_restore', await reader.result, 'postgresql-client');
  const counter = new CopyCounter();
  // A stream error ends the count; pg_restore's own result says whether the archive was whole.
  return { reader, counter, counted: pipeline(reader.stdout, counter).catch(() => {}) };
}

/** The last line pg_restore wrote, without its "pg_restore: error:" prefix. */
const lastError = (result: { stderr?: unknown }): string =>
  stderrText(result)
    .split('\n')
    .filter(Boolean)
    .at(-1)
    ?.replace(/^pg_restore:\s*(error:\s*)?/, '') ?? 'it stopped early';

export async function listTargets(ctx: PostgresqlContext, requested: readonly string[]): Promise<string[]> {
  const configured = ctx.config.databases ?? [];
  const named = requested.length ? requested : configured;
  const globals = ctx.config.globals ?? named.length === 0;
  if (named.length) return [...new Set([...named, ...(globals === true ? [GLOBALS] : [])])];
  const s = session(ctx);
  try {
    const skip = new Set(ctx.config.exclude ?? []);
    const rows = await psql(ctx, s, maintenanceDb(ctx.config), 'SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1');
    return [...rows.map((r) => r[0]).filter((n) => !skip.has(n)), ...(globals === false ? [] : [GLOBALS])];
  } finally {
    s.dispose();
  }
}

export async function backup(ctx: PostgresqlContext, database: string): Promise<BackupCommand> {
  const s = session(ctx);
  try {
    const target = database === GLOBALS ? maintenanceDb(ctx.config) : database;
    const tool = database === GLOBALS ? 'pg_dumpall' : 'pg_dump';
    // One psql before the dump: the server's version and the rows of every table. Each tool's
    // version is asked once per run.
    const [version, dumper, restorer, server] = await Promise.all([
      toolVersion(tool),
      pgTool(tool, s.conn),
      database === GLOBALS ? undefined : pgTool('pg_restore', s.conn),
      serverFacts(ctx, s, target, false),
    ]);
    const { versionNum: serverNum, version: serverVersion } = server;
    const [toolMajor, serverMajor] = [majorOf(version ?? ''), majorOf(serverNum ?? '')];
    if (toolMajor !== undefined && serverMajor !== undefined && toolMajor < serverMajor) {
      throw new BattError('TOOL_MISSING', `${tool} ${toolMajor} is older than the PostgreSQL ${serverMajor} server`, {
        hint: `install postgresql-client-${serverMajor} (a pg_dump at least as new as the server) and put it first on PATH`,
      });
    }
    // The dump is judged whole only when it reads to its end: pg_dumpall's script must end with
    // its trailer, and pg_restore must read the archive through, every data block included.
    const archive = restorer ? await archiveReader(ctx, restorer) : undefined;
    const reader = archive?.reader;
    const tail = reader ? undefined : new Tail();
    return {
      command: dumper.file,
      args: database === GLOBALS ? globalsArgs(conninfo(s.conn, target)) : dumpArgs(conninfo(s.conn, database)),
      env: { ...s.env, ...dumper.env },
      debianPackage: 'postgresql-client',
      through: reader ? teeTo(reader.stdin!) : tail,
      async finish(result) {
        if (result.failed) throw explain(toolFailure(tool, result, 'postgresql-client'));
        const read = await reader?.result;
        if (read?.isCanceled) throw toolFailure('pg_restore', read);
        if (read?.failed) {
          throw new BattError(
            'TOOL_FAILED',
            `${tool} exited 0, but pg_restore cannot read its archive of "${database}" to the end (pg_restore: ${lastError(read)}): the archive is truncated, or pg_restore is older than pg_dump`,
            {
              hint: 'check the server log and the disk, and that pg_restore comes from the same PostgreSQL as pg_dump; run again',
            },
          );
        }
        if (tail && !globalsTrailer.test(tail.tail.toString('utf8'))) {
          throw new BattError('TOOL_FAILED', `${tool} exited 0 but its script has no "cluster dump complete" trailer: it is truncated`, {
            hint: 'check the server log and the disk; run again',
          });
        }
        await archive?.counted;
        const rowCounts = archive?.counter.rows ?? {};
        const facts = database === GLOBALS ? {} : { rowCounts, tables: Object.keys(rowCounts).length, rowsCountedFrom: 'dump' };
        return { toolVersion: version, serverVersion, facts, warnings: stderrText(result).split('\n').filter(Boolean) };
      },
      dispose() {
        reader?.kill('SIGKILL');
        s.dispose();
      },
    };
  } catch (error) {
    s.dispose();
    throw error;
  }
}
