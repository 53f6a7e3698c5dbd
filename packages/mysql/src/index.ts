/**
 * The `mysql` service (MySQL and MariaDB): one mysqldump per database, in parallel up to -j,
 * with routines, triggers and events. InnoDB databases are dumped in one transaction; a
 * database with MyISAM/Aria tables is dumped under table locks, or refused, as configured.
 * Credentials reach the clients only through a 0600 option file, never the command line.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BattError,
  assertChecks,
  compareCounts,
  counted,
  definePlugin,
  passwordOf,
  privateFile,
  runTool,
  serverKeys,
  spawnTool,
  stderrText,
  toolFailure,
  toolVersion,
  which,
  type Check,
  type PluginContext,
  type RestoreSource,
} from '@batt/core/kit';
import { DumpFilter, type DumpPart } from './dump-filter.js';
import { clientOptionFile, dumpArgs, nonTransactionalTables, parseBatch, quoteIdent, rowCountQuery, sqlString, systemSchemas, tablesQuery, type Connection } from './args.js';

export * from './args.js';
export * from './dump-filter.js';

const existsQuery = (name: string): string => `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ${sqlString(name)}`;

async function databaseExists(ctx: PluginContext, file: string, name: string): Promise<boolean> {
  const rows = await query(ctx, file, existsQuery(name));
  return rows[0]?.[0] !== '0';
}

/** `name__batt_new` (or _old), within MySQL's 64-character limit. */
function scratchName(name: string, what: string): string {
  const suffix = `__batt_${what}`;
  return [...name].slice(0, 64 - suffix.length).join('') + suffix;
}

let sandboxHelp: Promise<string[]> | undefined;
/** `--sandbox` where the client has it (MariaDB 10.5.25, 10.6.18, 10.11.8 on): no client command may touch a file. */
const sandboxOption = (): Promise<string[]> =>
  (sandboxHelp ??= runTool(clientTool(), ['--no-defaults', '--help']).then(
    (help) => (/^\s*--sandbox\b/m.test(help) ? ['--sandbox'] : []),
    () => [],
  ));

/**
 * Feeds one part of the dump into the client; the client stops at the first error. A dump is
 * code to the client: `\!` or `system` would run a shell command as batt's user. --binary-mode
 * turns every client command but \C and DELIMITER off for piped input, and --sandbox refuses
 * any that touches a file or runs a program.
 */
async function load(ctx: PluginContext, file: string, database: string, source: RestoreSource, part: DumpPart): Promise<DumpFilter> {
  const sandbox = await sandboxOption(); // before the source opens: nothing may wait between its open and its pipe
  const filter = new DumpFilter(part);
  const input = source.open();
  input.once('error', (error) => filter.destroy(error)); // a damaged artifact stops the client
  const child = await spawnTool(clientTool(), [`--defaults-file=${file}`, '--binary-mode', ...sandbox, '--', database], {
    stdin: input.pipe(filter),
    stdout: 'ignore',
    signal: ctx.signal,
    debianPackage: 'mariadb-client',
  });
  const result = await child.result;
  if (result.failed) throw explain(toolFailure(clientTool(), result, 'mariadb-client'));
  return filter;
}

/** CHECK TABLE over every base table: one check, failed when any table reports an error. */
async function checkTables(ctx: PluginContext, file: string, database: string, tables: readonly string[], name: string): Promise<Check> {
  if (tables.length === 0) return { name, ok: true, detail: 'no tables' };
  const rows = await query(ctx, file, `CHECK TABLE ${tables.map((t) => `${quoteIdent(database)}.${quoteIdent(t)}`).join(', ')}`);
  const bad = rows.filter((r) => r[2]?.toLowerCase() === 'error' || (r[2]?.toLowerCase() === 'status' && r[3] !== 'OK'));
  return bad.length
    ? {
        name,
        ok: false,
        detail: bad
          .slice(0, 5)
          .map((r) => `${r[0]}: ${r[3]}`)
          .join('; '),
      }
    : { name, ok: true, detail: `${counted(tables.length, 'table')} OK` };
}

async function baseTables(ctx: PluginContext, file: string, database: string): Promise<string[]> {
  return (await query(ctx, file, tablesQuery(database))).filter(([, , type]) => type === 'BASE TABLE').map(([name]) => name);
}

/**
 * Seed 002's staged restore: the schema first, then CHECK TABLE; the rows, then CHECK TABLE
 * again; then the row count of every table against the dump and against the backup's facts.
 */
async function stagedRestore(ctx: PluginContext, file: string, database: string, source: RestoreSource): Promise<Check[]> {
  const recorded = source.facts.rowCounts as Record<string, number> | undefined;
  await load(ctx, file, database, source, 'schema');
  const tables = await baseTables(ctx, file, database);
  const missing = Object.keys(recorded ?? {}).filter((t) => !tables.includes(t));
  const checks: Check[] = [
    { name: 'schema', ok: missing.length === 0, detail: missing.length ? `tables missing after the schema: ${missing.join(', ')}` : `${tables.length} tables created` },
    await checkTables(ctx, file, database, tables, 'check tables (schema)'),
  ];
  assertChecks(`the schema of "${database}" failed its checks`, checks);
  const data = await load(ctx, file, database, source, 'data');
  checks.push({ name: 'trailer', ok: data.trailer, detail: data.trailer ? 'the dump was complete' : 'the dump has no completion trailer: it is truncated' });
  checks.push(await checkTables(ctx, file, database, tables, 'check tables (data)'));
  const counted = tables.length ? await query(ctx, file, rowCountQuery(database, tables)) : [];
  const actual = Object.fromEntries(counted.map(([t, n]) => [t, Number(n)]));
  checks.push(compareCounts('rows against the dump', Object.fromEntries(tables.map((t) => [t, data.rows[t] ?? 0])), actual));
  checks.push(compareCounts('rows against the backup', recorded, actual));
  return checks;
}

/**
 * Swaps the checked copy `from` in for `to`: `to` is dropped, the tables move over in one
 * RENAME TABLE, and views, routines, events and triggers (which RENAME TABLE cannot move
 * between databases) are created again from the dump. Only runs after every check passed.
 */
async function swapIn(ctx: PluginContext, file: string, from: string, to: string, source: RestoreSource): Promise<Check> {
  const tables = await baseTables(ctx, file, from);
  const triggers = await query(ctx, file, `SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = ${sqlString(from)}`);
  for (const [trigger] of triggers) await query(ctx, file, `DROP TRIGGER ${quoteIdent(from)}.${quoteIdent(trigger)}`);
  await query(ctx, file, `DROP DATABASE IF EXISTS ${quoteIdent(to)}`);
  await query(ctx, file, `CREATE DATABASE ${quoteIdent(to)}`);
  if (tables.length) await query(ctx, file, `RENAME TABLE ${tables.map((t) => `${quoteIdent(from)}.${quoteIdent(t)} TO ${quoteIdent(to)}.${quoteIdent(t)}`).join(', ')}`);
  await load(ctx, file, to, source, 'objects');
  await query(ctx, file, `DROP DATABASE ${quoteIdent(from)}`);
  return { name: 'swap', ok: true, detail: `${counted(tables.length, 'table')} and ${counted(triggers.length, 'trigger')} now in "${to}"` };
}

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
  const includes = ['/etc/mysql/my.cnf', '/etc/my.cnf', join(homedir(), '.my.cnf')].filter((f) => existsSync(f)).map((f) => `!include ${f}`);
  return privateFile(ctx.home, 'mysql-', 'client.cnf', `${includes.join('\n')}\n${clientOptionFile(connectionOf(ctx.config))}[mysqldump]\ncomments\n`);
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
  if (/Access denied for user .* to database|command denied/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: permission denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'grant the backup user SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the databases it backs up',
    });
  if (/Unknown database/i.test(m)) return new BattError('NOT_FOUND', `mysql: ${m.replace(/^.*?(ERROR|Got error)/, '$1')}`, { hint: 'check --mysql-db / mysql.databases' });
  if (/Access denied/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: access denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'check mysql.user and mysql.password (or BATT_MYSQL_USER / BATT_MYSQL_PASSWORD)',
    });
  if (/TLS\/SSL error|SSL connection error|SSL is required/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: TLS to the server failed: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: "check mysql.ssl_mode and mysql.ssl_ca (the CA that signed the server's certificate), and ssl_cert/ssl_key if the server asks for a client certificate",
    });
  if (/Can't connect|Unknown MySQL server host|Lost connection/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: cannot reach the server: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'check mysql.host, mysql.port or mysql.socket, and that the server runs',
    });
  const command = /ERROR at line \d+: (Unknown command '\\.'|Not allowed in the sandbox mode)/.exec(m)?.[0];
  if (command) {
    return new BattError('INTEGRITY', `the dump holds a mysql client command (${command}): batt runs none, and this one did not run`, {
      hint: 'mysqldump writes no such command, so the dump was changed after the backup: restore another run, or read the dump and load it by hand',
    });
  }
  // The client echoes the failing statement (rows of data) before its ERROR line: keep just that.
  const line = /ERROR \d+ \([0-9A-Z]+\)[^|]*/.exec(m)?.[0];
  if (line) return new BattError('TOOL_FAILED', `${m.slice(0, m.indexOf(' ')).replace(/:$/, '')}: ${line.trim()}`, { hint: error.hint });
  return error;
}

export const mysqlPlugin = definePlugin({
  name: 'mysql',
  canReplace: true,
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
      // One client call before the dump (each costs a connection and a process): the server's
      // version and whether the database exists, then its tables.
      const [[head, ...tables], tool] = await Promise.all([
        query(ctx, file.path, `SELECT VERSION(), (${existsQuery(database)}); ${tablesQuery(database)}`),
        toolVersion(dumpTool()),
      ]);
      const [version, exists] = head ?? [];
      if (exists === '0') throw new BattError('NOT_FOUND', `database "${database}" does not exist on the mysql server`, { hint: 'check --mysql-db / mysql.databases' });
      const locked = nonTransactionalTables(tables);
      if (locked.length && ctx.config.non_transactional === 'fail') {
        throw new BattError('TOOL_FAILED', `database "${database}" has non-transactional tables (${locked.join(', ')}): a consistent dump needs table locks`, {
          hint: 'set mysql.non_transactional: lock, or convert them with ALTER TABLE … ENGINE=InnoDB',
        });
      }
      // Rows are counted in the dump itself as it streams by: exact for the dump's snapshot,
      // and no COUNT(*) scans on the server.
      const scan = new DumpFilter('all');
      return {
        command: dumpTool(),
        args: dumpArgs(file.path, database, { lockTables: locked.length > 0, part: 'all' }),
        debianPackage: 'mariadb-client',
        through: scan,
        finish(result) {
          if (result.failed) throw explain(toolFailure(dumpTool(), result, 'mariadb-client'));
          if (!scan.trailer) {
            throw new BattError('TOOL_FAILED', `${dumpTool()} exited 0 but the dump of "${database}" has no completion trailer: it is truncated`, {
              hint: 'check the server log and the disk; run again',
            });
          }
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
  },

  restoreInto: (target, runId) => `${target}_restore_${runId}`,

  async planRestore(ctx, _target, into) {
    const file = optionFile(ctx);
    try {
      return { label: `database ${into}`, exists: await databaseExists(ctx, file.path, into) };
    } finally {
      file.dispose();
    }
  },

  async restore(ctx, _target, source, options) {
    const file = optionFile(ctx);
    try {
      const exists = await databaseExists(ctx, file.path, options.into);
      if (exists && !options.force && !options.replace)
        throw new BattError('USAGE', `database "${options.into}" already exists`, {
          hint: 'restore into a new name with --into, pass --force to replace it, or --replace to swap in a checked copy',
        });
      const name = options.replace ? scratchName(options.into, 'new') : options.into;
      if (options.replace || exists) await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await query(ctx, file.path, `CREATE DATABASE ${quoteIdent(name)}`);
      let checks: Check[];
      try {
        checks = assertChecks(`the restore of "${name}" failed its checks`, await stagedRestore(ctx, file.path, name, source));
      } catch (error) {
        // A restore that failed leaves no half database behind (and --replace leaves the old one as it was).
        await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
        throw error;
      }
      if (options.replace) {
        checks.push(
          await swapIn(ctx, file.path, name, options.into, source).catch((error: unknown) => {
            throw new BattError('TOOL_FAILED', `the restore passed its checks, but swapping it in for "${options.into}" failed: ${(error as Error).message}`, {
              hint: `the checked copy is in database "${name}"; fix the cause and run again`,
            });
          }),
        );
      }
      return checks;
    } finally {
      file.dispose();
    }
  },

  async verify(_ctx, _target, source) {
    const scan = new DumpFilter('all');
    await pipeline(source.open(), scan, new Writable({ write: (_c, _e, cb) => cb() }));
    return [
      { name: 'trailer', ok: scan.trailer, detail: scan.trailer ? 'the dump ends with its completion trailer' : 'no "-- Dump completed" trailer: the dump is truncated' },
      compareCounts('rows in the dump', source.facts.rowCounts as Record<string, number> | undefined, scan.rows),
    ];
  },

  async restoreTest(ctx, _target, source) {
    const file = optionFile(ctx);
    const name = `batt_drill_${source.itemId}_${Date.now().toString(36)}`;
    try {
      await query(ctx, file.path, `CREATE DATABASE ${quoteIdent(name)}`);
      return await stagedRestore(ctx, file.path, name, source);
    } finally {
      await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
      file.dispose();
    }
  },
});

export default mysqlPlugin;
