/**
 * The pure part of the postgresql service: passfile lines, conninfo strings and argv. A
 * database name only ever appears quoted inside a conninfo value, so `-f…` or
 * `dbname=template1` cannot become an option or a second keyword.
 */

export interface Connection {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  sslMode?: string;
}

/** A conninfo value: single-quoted, with backslashes and quotes escaped. */
export function conninfoValue(value: string | number): string {
  return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `host='…' port='…' user='…' dbname='…'` for one database. */
export function conninfo(conn: Connection, database: string): string {
  const parts: string[] = [];
  if (conn.host) parts.push(`host=${conninfoValue(conn.host)}`);
  if (conn.port) parts.push(`port=${conninfoValue(conn.port)}`);
  if (conn.user) parts.push(`user=${conninfoValue(conn.user)}`);
  if (conn.sslMode) parts.push(`sslmode=${conninfoValue(conn.sslMode)}`);
  parts.push(`dbname=${conninfoValue(database)}`);
  return parts.join(' ');
}

const passfileField = (value: string | number | undefined): string => (value === undefined || value === '' ? '*' : String(value).replace(/\\/g, '\\\\').replace(/:/g, '\\:'));

/** A ~/.pgpass line matching any database on this host, port and user. */
export function passfileLine(conn: Connection): string {
  return `${passfileField(conn.host)}:${passfileField(conn.port)}:*:${passfileField(conn.user)}:${passfileField(conn.password ?? '')}\n`;
}

/** pg_dump's argv: custom format, uncompressed (batt compresses), never prompting. */
export function dumpArgs(info: string): string[] {
  return ['--format=custom', '--compress=0', '--no-password', `--dbname=${info}`];
}

/** pg_dumpall's argv for roles and tablespaces only. */
export function globalsArgs(info: string): string[] {
  return ['--globals-only', '--no-password', `--dbname=${info}`];
}

/** The target name of the roles-and-tablespaces item: not a valid name for a database dump. */
export const GLOBALS = '@globals';

/** The major version in `pg_dump (PostgreSQL) 15.19 (Debian …)` or a server_version_num. */
export function majorOf(version: string): number | undefined {
  const num = /^\d{5,6}$/.exec(version.trim());
  if (num) return Math.floor(Number(num[0]) / 10000);
  const m = /(\d+)(?:\.(\d+))?/.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** SQL that yields one `SELECT 'schema.table', count(*) FROM …` per user table, quoted by the server. */
export const countQueriesSql = `SELECT format('SELECT %L, count(*) FROM %I.%I', schemaname || '.' || tablename, schemaname, tablename)
  FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`;
