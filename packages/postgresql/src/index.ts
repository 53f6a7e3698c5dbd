/**
 * The `postgresql` service (alias `postgres`): `pg_dump -Fc` per non-template database, in
 * parallel up to -j, plus roles and tablespaces from `pg_dumpall --globals-only` as their own
 * item. The password reaches the tools only through a 0600 passfile (PGPASSFILE). A pg_dump
 * older than the server's major version is refused: it cannot dump newer servers correctly.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { passwordOf, serverKeys } from '@batt/core/config/secrets';
import { BattError } from '@batt/core/errors/errors';
import { privateScratch } from '@batt/core/home/home';
import { runTool, spawnTool, stderrText, toolFailure, toolVersion } from '@batt/core/exec/exec';
import { definePlugin, type PluginContext } from '@batt/core/plugins/types';
import { conninfo, countQueriesSql, dumpArgs, GLOBALS, globalsArgs, majorOf, passfileLine, type Connection } from './args.js';

export * from './args.js';

function connectionOf(config: Record<string, unknown>): Connection {
  const password = passwordOf('postgresql', config);
  return { host: config.host as string | undefined, port: config.port as number | undefined, user: config.user as string | undefined, password, sslMode: config.ssl_mode as string | undefined };
}

interface Session {
  conn: Connection;
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

/** A 0600 passfile for this connection (only when a password is configured; else libpq's own). */
function session(ctx: { config: Record<string, unknown>; home: string }): Session {
  const conn = connectionOf(ctx.config);
  if (conn.password === undefined) return { conn, env: {}, dispose() {} };
  const dir = privateScratch(ctx.home, 'pg-');
  const passfile = join(dir, 'pgpass');
  writeFileSync(passfile, passfileLine(conn), { mode: 0o600 });
  // libpq prefers PGPASSWORD over the passfile: batt's configured password must win.
  return { conn, env: { PGPASSFILE: passfile, PGPASSWORD: undefined }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  const m = error.message;
  if (/password authentication failed|no password supplied/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: authentication failed: ${m.replace(/^.*?FATAL:\s*/s, '')}`, { hint: 'check postgresql.user and postgresql.password (or BATT_POSTGRESQL_USER / BATT_POSTGRESQL_PASSWORD)' });
  }
  if (/could not connect|Connection refused|could not translate host name|No such file or directory[\s|]*Is the server running/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: cannot reach the server: ${m.replace(/^.*?error:\s*/s, '')}`, { hint: 'check postgresql.host and postgresql.port, and that the server runs' });
  }
  if (/database ".*" does not exist/i.test(m)) {
    return new BattError('NOT_FOUND', `postgresql: ${m.replace(/^.*?FATAL:\s*/s, '')}`, { hint: 'check --postgresql-db / postgresql.databases' });
  }
  return error;
}

async function psql(ctx: PluginContext, s: Session, database: string, sql: string): Promise<string[][]> {
  try {
    const out = await runTool('psql', ['--no-psqlrc', '--no-password', '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', `--dbname=${conninfo(s.conn, database)}`, '-c', sql], { env: s.env, signal: ctx.signal, debianPackage: 'postgresql-client' });
    return out === '' ? [] : out.split('\n').map((line) => line.split('\t'));
  } catch (error) {
    throw explain(error);
  }
}

const maintenanceDb = (config: Record<string, unknown>): string => (config.maintenance_db as string | undefined) ?? 'postgres';

export const postgresqlPlugin = definePlugin({
  name: 'postgresql',
  aliases: ['postgres'],
  summary: 'PostgreSQL databases (pg_dump -Fc each) and roles (pg_dumpall --globals-only)',
  targetOption: { name: 'postgresql-db', aliases: ['postgres-db'], describe: 'a database to back up (repeatable); implies the postgresql service' },
  configKeys: {
    ...serverKeys('postgresql', 'server host name, address or socket folder (PGHOST works too)'),
    databases: { type: 'string[]', describe: 'databases to back up (default: every non-template database)' },
    exclude: { type: 'string[]', describe: 'databases to leave out' },
    globals: { type: 'boolean', describe: 'also back up roles and tablespaces (default true when backing up all databases)' },
    maintenance_db: { type: 'string', describe: 'database to connect to for listing (default postgres)' },
    ssl_mode: { type: 'enum', values: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'], describe: 'libpq sslmode' },
  },
  extension: (target: string) => (target === GLOBALS ? '.sql' : '.dump'),

  async listTargets(ctx, requested) {
    const configured = (ctx.config.databases as string[] | undefined) ?? [];
    const named = requested.length ? requested : configured;
    const globals = ctx.config.globals ?? named.length === 0;
    if (named.length) return [...new Set([...named, ...(globals === true ? [GLOBALS] : [])])];
    const s = session(ctx);
    try {
      const skip = new Set((ctx.config.exclude as string[] | undefined) ?? []);
      const rows = await psql(ctx, s, maintenanceDb(ctx.config), 'SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1');
      return [...rows.map((r) => r[0]).filter((n) => !skip.has(n)), ...(globals === false ? [] : [GLOBALS])];
    } finally {
      s.dispose();
    }
  },

  async backup(ctx, database) {
    const s = session(ctx);
    try {
      const target = database === GLOBALS ? maintenanceDb(ctx.config) : database;
      const tool = database === GLOBALS ? 'pg_dumpall' : 'pg_dump';
      const [version, server] = await Promise.all([
        toolVersion(tool),
        psql(ctx, s, target, 'SELECT current_setting(\'server_version_num\'), version()'),
      ]);
      const [serverNum, serverVersion] = server[0] ?? [];
      const [toolMajor, serverMajor] = [majorOf(version ?? ''), majorOf(serverNum ?? '')];
      if (toolMajor !== undefined && serverMajor !== undefined && toolMajor < serverMajor) {
        throw new BattError('TOOL_MISSING', `${tool} ${toolMajor} is older than the PostgreSQL ${serverMajor} server`, {
          hint: `install postgresql-client-${serverMajor} (a pg_dump at least as new as the server) and put it first on PATH`,
        });
      }
      let facts: Record<string, unknown> = {};
      if (database !== GLOBALS) {
        const queries = (await psql(ctx, s, database, countQueriesSql)).map((r) => r[0]);
        const counts = queries.length ? await psql(ctx, s, database, queries.join(' UNION ALL ')) : [];
        facts = { rowCounts: Object.fromEntries(counts.map(([t, n]) => [t, Number(n)])), tables: counts.length };
      }
      return {
        command: tool,
        args: database === GLOBALS ? globalsArgs(conninfo(s.conn, target)) : dumpArgs(conninfo(s.conn, database)),
        env: s.env,
        debianPackage: 'postgresql-client',
        finish(result) {
          if (result.failed) throw explain(toolFailure(tool, result, 'postgresql-client'));
          return { toolVersion: version, serverVersion, facts, warnings: stderrText(result).split('\n').filter(Boolean) };
        },
        dispose: () => s.dispose(),
      };
    } catch (error) {
      s.dispose();
      throw error;
    }
  },

  async restore(ctx, target, source: Readable, options) {
    const s = session(ctx);
    try {
      if (target === GLOBALS) {
        const child = await spawnTool('psql', ['--no-psqlrc', '--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=0', `--dbname=${conninfo(s.conn, maintenanceDb(ctx.config))}`], { stdin: source, stdout: 'ignore', env: s.env, signal: ctx.signal });
        const result = await child.result;
        if (result.failed) throw explain(toolFailure('psql', result, 'postgresql-client'));
        return;
      }
      const exists = await psql(ctx, s, maintenanceDb(ctx.config), `SELECT count(*) FROM pg_database WHERE datname = ${literal(options.to)}`);
      if (exists[0]?.[0] !== '0') {
        if (!options.force) throw new BattError('USAGE', `database "${options.to}" already exists`, { hint: 'restore into a new name, or pass --force to replace it' });
        await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE ${ident(options.to)} WITH (FORCE)`);
      }
      await psql(ctx, s, maintenanceDb(ctx.config), `CREATE DATABASE ${ident(options.to)}`);
      const child = await spawnTool('pg_restore', ['--no-password', '--exit-on-error', '--no-owner', `--dbname=${conninfo(s.conn, options.to)}`], { stdin: source, stdout: 'ignore', env: s.env, signal: ctx.signal });
      const result = await child.result;
      if (result.failed) throw explain(toolFailure('pg_restore', result, 'postgresql-client'));
    } finally {
      s.dispose();
    }
  },
});

/** A SQL string literal with quotes doubled (standard_conforming_strings is on since 9.1). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A SQL identifier with quotes doubled. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export default postgresqlPlugin;
