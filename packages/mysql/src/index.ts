/**
 * The `mysql` service (MySQL and MariaDB): one mysqldump per database, in parallel up to -j,
 * with routines, triggers and events. InnoDB databases are dumped in one transaction; a
 * database with MyISAM/Aria tables is dumped under table locks, or refused, as configured.
 * Credentials reach the clients only through a 0600 option file, never the command line.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { passwordOf, serverKeys } from '@batt/core/config/secrets';
import { BattError } from '@batt/core/errors/errors';
import { privateScratch } from '@batt/core/home/home';
import { runTool, spawnTool, stderrText, toolFailure, toolVersion, which } from '@batt/core/exec/exec';
import { definePlugin, type PluginContext } from '@batt/core/plugins/types';
import {
  clientOptionFile, dumpArgs, nonTransactionalTables, parseBatch, quoteIdent, rowCountQuery, sqlString, systemSchemas, tablesQuery, type Connection,
} from './args.js';

export * from './args.js';

const TRAILER = /-- Dump completed/;

function connectionOf(config: Record<string, unknown>): Connection {
  const password = passwordOf('mysql', config);
  return {
    host: config.host as string | undefined,
    port: config.port as number | undefined,
    socket: config.socket as string | undefined,
    user: config.user as string | undefined,
    password,
    sslMode: config.ssl_mode as string | undefined,
    sslCa: config.ssl_ca as string | undefined,
    sslCert: config.ssl_cert as string | undefined,
    sslKey: config.ssl_key as string | undefined,
  };
}

/**
 * A private 0600 option file holding the credentials; `dispose()` removes it. Given with
 * --defaults-file, it includes the usual option files first and then states batt's settings,
 * so batt's configuration wins over ~/.my.cnf (which --defaults-extra-file would let win), and
 * a `skip-comments` there cannot remove the completion trailer batt checks.
 */
function optionFile(ctx: { config: Record<string, unknown>; home: string }): { path: string; dispose(): void } {
  const dir = privateScratch(ctx.home, 'mysql-');
  const path = join(dir, 'client.cnf');
  const includes = ['/etc/mysql/my.cnf', '/etc/my.cnf', join(homedir(), '.my.cnf')].filter((f) => existsSync(f)).map((f) => `!include ${f}`);
  writeFileSync(path, `${includes.join('\n')}\n${clientOptionFile(connectionOf(ctx.config))}[mysqldump]\ncomments\n`, { mode: 0o600 });
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const clientTool = (): string => (which('mariadb') ? 'mariadb' : 'mysql');
const dumpTool = (): string => (which('mariadb-dump') ? 'mariadb-dump' : 'mysqldump');

/** Runs SQL with the mysql client; rows of cells. Errors name the server's complaint. */
async function query(ctx: PluginContext, file: string, sql: string): Promise<string[][]> {
  try {
    return parseBatch(await runTool(clientTool(), [`--defaults-file=${file}`, '-N', '-B', '-e', sql], { signal: ctx.signal, debianPackage: 'mariadb-client' }));
  } catch (error) {
    throw explain(error);
  }
}

/** Turns client errors into messages that say what to do. */
function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  const m = error.message;
  if (/Access denied for user .* to database|command denied/i.test(m)) return new BattError('TOOL_FAILED', `mysql: permission denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, { hint: 'grant the backup user SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the databases it backs up' });
  if (/Unknown database/i.test(m)) return new BattError('NOT_FOUND', `mysql: ${m.replace(/^.*?(ERROR|Got error)/, '$1')}`, { hint: 'check --mysql-db / mysql.databases' });
  if (/Access denied/i.test(m)) return new BattError('TOOL_FAILED', `mysql: access denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, { hint: 'check mysql.user and mysql.password (or BATT_MYSQL_USER / BATT_MYSQL_PASSWORD)' });
  if (/Can't connect|Unknown MySQL server host|Lost connection/i.test(m)) return new BattError('TOOL_FAILED', `mysql: cannot reach the server: ${m.replace(/^.*?ERROR/, 'ERROR')}`, { hint: 'check mysql.host, mysql.port or mysql.socket, and that the server runs' });
  return error;
}

export const mysqlPlugin = definePlugin({
  name: 'mysql',
  aliases: ['mariadb'],
  summary: 'MySQL and MariaDB databases, one mysqldump each',
  targetOption: { name: 'mysql-db', describe: 'a database to back up (repeatable); implies the mysql service' },
  configKeys: {
    ...serverKeys('mysql', 'server host name or address'),
    socket: { type: 'string', describe: 'server Unix socket' },
    databases: { type: 'string[]', describe: 'databases to back up (default: all but the system schemas)' },
    exclude: { type: 'string[]', describe: 'databases to leave out' },
    include_system: { type: 'boolean', describe: 'also back up the `mysql` system schema (users, grants)' },
    non_transactional: { type: 'enum', values: ['lock', 'fail'], describe: 'MyISAM/Aria tables: lock them for the dump (default) or fail the item' },
    ssl_mode: { type: 'enum', values: ['disabled', 'preferred', 'required', 'verify_ca', 'verify_identity'], describe: 'TLS to the server' },
    ssl_ca: { type: 'string', describe: 'CA certificate file' },
    ssl_cert: { type: 'string', describe: 'client certificate file' },
    ssl_key: { type: 'string', describe: 'client key file' },
  },
  extension: '.sql',

  async listTargets(ctx, requested) {
    const configured = (ctx.config.databases as string[] | undefined) ?? [];
    if (requested.length || configured.length) return [...new Set(requested.length ? requested : configured)];
    const file = optionFile(ctx);
    try {
      const skip = new Set([...systemSchemas.filter((s) => !(s === 'mysql' && ctx.config.include_system === true)), ...((ctx.config.exclude as string[] | undefined) ?? [])]);
      const names = (await query(ctx, file.path, 'SHOW DATABASES')).map((row) => row[0]).filter((name) => !skip.has(name));
      if (names.length === 0) throw new BattError('NOT_FOUND', 'the mysql server has no databases to back up', { hint: 'create one, or name system schemas with --mysql-db' });
      return names;
    } finally {
      file.dispose();
    }
  },

  async backup(ctx, database) {
    const file = optionFile(ctx);
    try {
      const [version, tables, tool] = await Promise.all([
        query(ctx, file.path, 'SELECT VERSION()').then((rows) => rows[0]?.[0]),
        query(ctx, file.path, tablesQuery(database)),
        toolVersion(dumpTool()),
      ]);
      const exists = await query(ctx, file.path, `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ${sqlString(database)}`);
      if (exists[0]?.[0] === '0') throw new BattError('NOT_FOUND', `database "${database}" does not exist on the mysql server`, { hint: 'check --mysql-db / mysql.databases' });
      const locked = nonTransactionalTables(tables);
      if (locked.length && ctx.config.non_transactional === 'fail') {
        throw new BattError('TOOL_FAILED', `database "${database}" has non-transactional tables (${locked.join(', ')}): a consistent dump needs table locks`, {
          hint: 'set mysql.non_transactional: lock, or convert them with ALTER TABLE … ENGINE=InnoDB',
        });
      }
      const baseTables = tables.filter(([, , type]) => type === 'BASE TABLE').map(([name]) => name);
      // Counted while the dump runs, not before it: the counts cost a scan of every table.
      const counting = baseTables.length ? query(ctx, file.path, rowCountQuery(database, baseTables)) : Promise.resolve([]);
      counting.catch(() => {});
      return {
        command: dumpTool(),
        args: dumpArgs(file.path, database, { lockTables: locked.length > 0, part: 'all' }),
        debianPackage: 'mariadb-client',
        keepTail: 512,
        async finish(result, tail) {
          if (result.failed) throw explain(toolFailure(dumpTool(), result, 'mariadb-client'));
          if (!TRAILER.test(tail.toString('utf8'))) {
            throw new BattError('TOOL_FAILED', `${dumpTool()} exited 0 but the dump of "${database}" has no completion trailer: it is truncated`, { hint: 'check the server log and the disk; run again' });
          }
          const warnings = stderrText(result).split('\n').filter(Boolean);
          const rowCounts = Object.fromEntries((await counting).map(([t, n]) => [t, Number(n)]));
          return {
            toolVersion: tool, serverVersion: version,
            facts: { rowCounts, tables: baseTables.length, lockedTables: locked.length ? locked : undefined, consistency: locked.length ? 'lock-tables' : 'single-transaction' },
            warnings,
          };
        },
        dispose: () => file.dispose(),
      };
    } catch (error) {
      file.dispose();
      throw error;
    }
  },

  async restore(ctx, _target, source: Readable, options) {
    const file = optionFile(ctx);
    try {
      const exists = await query(ctx, file.path, `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ${sqlString(options.to)}`);
      if (exists[0]?.[0] !== '0') {
        if (!options.force) throw new BattError('USAGE', `database "${options.to}" already exists`, { hint: 'restore into a new name, or pass --force to replace it' });
        await query(ctx, file.path, `DROP DATABASE ${quoteIdent(options.to)}`);
      }
      await query(ctx, file.path, `CREATE DATABASE ${quoteIdent(options.to)}`);
      const child = await spawnTool(clientTool(), [`--defaults-file=${file.path}`, '--binary-mode', '--', options.to], { stdin: source, stdout: 'ignore', signal: ctx.signal });
      const result = await child.result;
      if (result.failed) throw explain(toolFailure(clientTool(), result, 'mariadb-client'));
    } finally {
      file.dispose();
    }
  },
});

export default mysqlPlugin;
