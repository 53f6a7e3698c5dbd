/** The backup side: the databases to back up, and mysqldump with the checks of its output. */
import { BattError, stderrText, toolFailure, toolVersion, type BackupCommand } from '@batt/core/kit';
import { DumpFilter } from './dump-filter.js';
import { definitionsQuery, dumpArgs, nonTransactionalTables, skipped, tablesQuery } from './args.js';
import { ddlDuringDump, ddlInDumpError, parseVersion } from './checks.js';
import { sessionQuery, warmUp } from './client.js';
import { dumpTool, existsQuery, explain, optionFile } from './session.js';
import type { MysqlContext } from './index.js';

export async function listTargets(ctx: MysqlContext, requested: readonly string[]): Promise<string[]> {
  const configured = ctx.config.databases ?? [];
  // The run's client starts now, while the core opens the catalog and records the run: its
  // start and connection are most of what a small dump waits for, so it goes first, then the
  // dump tool's version probe. SHOW DATABASES below starts it too.
  const file = optionFile(ctx);
  if (requested.length || configured.length) {
    // batt may end before the warm-up does (client.ts, Client.send): the credentials go then too.
    const dispose = (): void => file.dispose();
    process.once('exit', dispose);
    void warmUp(file.path, ctx.signal).finally(() => {
      process.off('exit', dispose);
      dispose();
    });
    void toolVersion(dumpTool());
    return [...new Set(requested.length ? requested : configured)];
  }
  try {
    const skip = skipped(ctx.config);
    const listing = sessionQuery(file.path, 'SHOW DATABASES', ctx.signal);
    void toolVersion(dumpTool());
    const names = (await listing).map((row) => row[0]).filter((name) => !skip.has(name));
    if (names.length === 0) throw new BattError('NOT_FOUND', 'the mysql server has no databases to back up', { hint: 'create one, or name system schemas with --mysql-db' });
    return names;
  } finally {
    file.dispose();
  }
}

export async function backup(ctx: MysqlContext, database: string): Promise<BackupCommand> {
  const file = optionFile(ctx);
  try {
    // One query before the dump, on the run's one client (client.ts): the server's version,
    // whether the database exists and whether the binlog is on, then its tables.
    const [[head, ...tables], tool] = await Promise.all([
      sessionQuery(file.path, `SELECT VERSION(), (${existsQuery(database)}), @@log_bin; ${tablesQuery(database)}`, ctx.signal),
      toolVersion(dumpTool()),
    ]);
    const [version, exists, logBin] = head ?? [];
    if (exists === '0') throw new BattError('NOT_FOUND', `database "${database}" does not exist on the mysql server`, { hint: 'check --mysql-db / mysql.databases' });
    const locked = nonTransactionalTables(tables);
    if (locked.length && ctx.config.non_transactional === 'fail') {
      throw new BattError('TOOL_FAILED', `database "${database}" has non-transactional tables (${locked.join(', ')}): a consistent dump needs table locks`, {
        hint: 'set mysql.non_transactional: lock, or convert them with ALTER TABLE … ENGINE=InnoDB',
      });
    }
    // Each table's definition just before the dump, to compare with the one the dump holds:
    // --single-transaction keeps the rows of one moment, not the definitions (see ddlDuringDump).
    // Every table the dump will hold; undefined where no definition is compared (sequences).
    const shown = new Map((await definitions(ctx, file.path, database, tables)).map(([name, definition]) => [name, definition]));
    const before = new Map(tables.filter(([, , type]) => type !== 'VIEW').map(([name]) => [name, shown.get(name)] as const));
    // Rows are counted in the dump itself as it streams by: exact for the dump's snapshot,
    // and no COUNT(*) scans on the server.
    const scan = new DumpFilter('all');
    // With the binlog on, the dump notes its snapshot's binlog position, for point-in-time
    // recovery. Only MariaDB's tool on a MariaDB server: it reads the position of its own
    // snapshot (status binlog_snapshot_*), with no lock and no privilege more; MySQL's takes
    // FLUSH TABLES WITH READ LOCK for it, which needs RELOAD and stalls every write.
    const binlogPosition = logBin === '1' && parseVersion(tool ?? '')?.flavor === 'mariadb' && parseVersion(version ?? '')?.flavor === 'mariadb';
    return {
      command: dumpTool(),
      args: dumpArgs(file.path, database, { lockTables: locked.length > 0, part: 'all', binlogPosition }),
      debianPackage: 'mariadb-client',
      through: scan,
      // The server's estimate of the rows' size: a dump is about as large as its data.
      expectedBytes: tables.reduce((sum, [, , , bytes]) => sum + (Number(bytes) || 0), 0),
      finish(result) {
        if (result.failed) {
          const ddl = result.isCanceled ? undefined : ddlInDumpError(stderrText(result), before);
          if (ddl) throw ddlFailure(database, [ddl]);
          throw explain(toolFailure(dumpTool(), result, 'mariadb-client'));
        }
        if (!scan.trailer) {
          throw new BattError('TOOL_FAILED', `${dumpTool()} exited 0 but the dump of "${database}" has no completion trailer: it is truncated`, {
            hint: 'check the server log and the disk; run again',
          });
        }
        const changed = ddlDuringDump(before, scan);
        if (changed.length) throw ddlFailure(database, changed);
        const warnings = stderrText(result).split('\n').filter(Boolean);
        // The tables the dump itself holds, not the list asked for before it started: a table
        // dropped or made in between must not make the facts disagree with the dump.
        const rowCounts = Object.fromEntries(scan.tables.map((t) => [t, scan.rows[t] ?? 0]));
        return {
          toolVersion: tool,
          serverVersion: version,
          facts: {
            rowCounts,
            tables: scan.tables.length,
            lockedTables: locked.length ? locked : undefined,
            consistency: locked.length ? 'lock-tables' : 'single-transaction',
            rowsCountedFrom: 'dump',
            binlog: scan.binlog,
          },
          warnings,
        };
      },
      dispose: () => file.dispose(),
    };
  } catch (error) {
    file.dispose();
    throw error;
  }
}

/** The failure of a dump that DDL reached: which tables, and what to do. */
function ddlFailure(database: string, tables: readonly string[]): BattError {
  return new BattError('TOOL_FAILED', `DDL ran on table ${tables.join(', ')} of "${database}" while it was dumped: the dump is not one consistent snapshot, so it is not kept`, {
    hint: 're-run the backup, and schedule ALTER, RENAME, TRUNCATE and DROP TABLE outside the backup window',
  });
}

/**
 * [table, CREATE statement] of each base table. A table dropped between the listing and its
 * SHOW CREATE TABLE is no error: the tables are listed again (a few times at most).
 */
async function definitions(ctx: MysqlContext, file: string, database: string, listed: string[][]): Promise<string[][]> {
  let tables = listed;
  for (let attempt = 1; ; attempt++) {
    const compared = tables.filter(([, , type]) => type === 'BASE TABLE' || type === 'SYSTEM VERSIONED').map(([name]) => name);
    if (!compared.length) return [];
    try {
      return await sessionQuery(file, definitionsQuery(database, compared), ctx.signal);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof BattError) || !/\(42S02\)|doesn't exist/.test(error.message)) throw error;
      tables = await sessionQuery(file, tablesQuery(database), ctx.signal);
    }
  }
}
