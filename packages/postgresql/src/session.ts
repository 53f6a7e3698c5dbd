/** What backup and restore share: the passfile session, psql, the server's facts and error explanations. */
import { Readable } from 'node:stream';
import { BattError, collect, privateFile, serverOf, toolFailure, type ConfigOf, type ToolResult } from '@batt/core/kit';
import { conninfo, factsScript, parseFacts, passfileLine, type Connection } from './args.js';
import { pgTool } from './tools.js';
import type { PostgresqlContext, postgresqlKeys } from './index.js';

type PostgresqlConfig = ConfigOf<typeof postgresqlKeys>;

function connectionOf(config: PostgresqlConfig): Connection {
  return { ...serverOf('postgresql', config), sslMode: config.ssl_mode };
}

export interface Session {
  conn: Connection;
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

/** A 0600 passfile for this connection (only when a password is configured; else libpq's own). */
export function session(ctx: Pick<PostgresqlContext, 'config' | 'home'>): Session {
  const conn = connectionOf(ctx.config);
  if (conn.password === undefined) return { conn, env: {}, dispose() {} };
  const passfile = privateFile(ctx.home, 'pg-', 'pgpass', passfileLine(conn));
  // libpq prefers PGPASSWORD over the passfile: batt's configured password must win.
  return { conn, env: { PGPASSFILE: passfile.path, PGPASSWORD: undefined }, dispose: passfile.dispose };
}

export function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  const m = error.message;
  if (/password authentication failed|no password supplied/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: authentication failed: ${m.replace(/^.*?FATAL:\s*/s, '')}`, {
      hint: 'check postgresql.user and postgresql.password (or BATT_POSTGRESQL_USER / BATT_POSTGRESQL_PASSWORD)',
    });
  }
  if (/could not connect|Connection refused|could not translate host name|No such file or directory[\s|]*Is the server running/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: cannot reach the server: ${m.replace(/^.*?error:\s*/s, '')}`, {
      hint: 'check postgresql.host and postgresql.port, and that the server runs',
    });
  }
  if (/database ".*" does not exist/i.test(m)) {
    return new BattError('NOT_FOUND', `postgresql: ${m.replace(/^.*?FATAL:\s*/s, '')}`, { hint: 'check --postgresql-db / postgresql.databases' });
  }
  return error;
}

const psqlArgs = (s: Session, database: string): string[] => [
  '--no-psqlrc',
  '--no-password',
  '-X',
  '-q',
  '-A',
  '-t',
  '-F',
  '\t',
  '-v',
  'ON_ERROR_STOP=1',
  `--dbname=${conninfo(s.conn, database)}`,
];

export async function psql(ctx: PostgresqlContext, s: Session, database: string, sql: string): Promise<string[][]> {
  try {
    const tool = await pgTool('psql', s.conn);
    const out = await ctx.exec.run(tool.file, [...psqlArgs(s, database), '-c', sql], { env: { ...s.env, ...tool.env }, debianPackage: 'postgresql-client' });
    return out === '' ? [] : out.split('\n').map((line) => line.split('\t'));
  } catch (error) {
    throw explain(error);
  }
}

/** The server's version and, with `rows`, the rows of every user table: one psql, reading factsScript. */
export async function serverFacts(ctx: PostgresqlContext, s: Session, database: string, rows: boolean, own = false): Promise<ReturnType<typeof parseFacts>> {
  const tool = await pgTool('psql', s.conn);
  const child = await ctx.exec.spawn(tool.file, [...psqlArgs(s, database), '-f', '-'], {
    stdin: Readable.from([factsScript(rows, own)]),
    env: { ...s.env, ...tool.env },
    debianPackage: 'postgresql-client',
  });
  const [out, result] = await Promise.all([collect(child.stdout, Infinity), child.result]);
  if (result.failed) throw explain(toolFailure('psql', result, 'postgresql-client'));
  return parseFacts(out);
}

/** Runs a tool that reads the artifact on stdin (a damaged artifact stops it). */
export async function feedTool(ctx: PostgresqlContext, s: Session, tool: string, args: string[], input: Readable): Promise<ToolResult> {
  const { file, env } = await pgTool(tool, s.conn);
  const child = await ctx.exec.spawn(file, args, { stdin: input, stdout: 'ignore', env: { ...s.env, ...env }, debianPackage: 'postgresql-client' });
  const result = await child.result;
  if (result.failed) throw explain(toolFailure(tool, result, 'postgresql-client'));
  return result;
}

export const maintenanceDb = (config: PostgresqlConfig): string => config.maintenance_db ?? 'postgres';

/** A SQL string literal with quotes doubled (standard_conforming_strings is on since 9.1). */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A SQL identifier with quotes doubled. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
