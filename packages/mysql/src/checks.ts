/**
 * The pure part of the mysql service's doctor: which flavour and version a tool or server is,
 * whether the dump tool fits the server, and which privileges a dump of a database takes
 * (mysqldump's manual) against those the server says the user holds.
 */
import { sqlString, transactional } from './args.js';

export interface ServerVersion {
  flavor: 'mariadb' | 'mysql';
  major: number;
  minor: number;
  patch: number;
}

/** A `--version` line or a server's VERSION(): `10.11.19-MariaDB-0+deb12u1`, `mysqldump  Ver 8.0.36 for Linux`, `… Distrib 5.7.44, for Linux`. */
export function parseVersion(text: string): ServerVersion | undefined {
  const maria = /(\d+)\.(\d+)\.(\d+)-MariaDB/i.exec(text);
  const mysql = maria ? undefined : (/Distrib (\d+)\.(\d+)\.(\d+)/.exec(text) ?? /(?:Ver |^)(\d+)\.(\d+)\.(\d+)/.exec(text.trim()));
  const m = maria ?? mysql;
  return m ? { flavor: maria ? 'mariadb' : 'mysql', major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

const name = (v: ServerVersion): string => `${v.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${v.major}.${v.minor}`;

/** `MariaDB 10.11.19` for a version line or VERSION(); the text itself when it is none batt reads. */
export function versionName(text: string | undefined): string {
  const v = parseVersion(text ?? '');
  return v ? `${name(v)}.${v.patch}` : (text ?? 'version unknown');
}
const older = (a: ServerVersion, b: ServerVersion): boolean => a.major < b.major || (a.major === b.major && a.minor < b.minor);

/** Why `tool` cannot dump `server` well, or undefined when it can (or either version is unknown). */
export function toolMisfit(tool: string, toolText: string | undefined, serverText: string | undefined): string | undefined {
  const [t, s] = [parseVersion(toolText ?? ''), parseVersion(serverText ?? '')];
  if (!t || !s) return undefined;
  // mysqldump 8 asks information_schema.COLUMN_STATISTICS, which MariaDB has not: every dump fails.
  if (t.flavor === 'mysql' && s.flavor === 'mariadb' && t.major >= 8) return `${tool} is MySQL's ${t.major}.${t.minor}, which cannot dump a ${name(s)} server`;
  if (t.flavor === s.flavor && older(t, s)) return `${tool} ${t.major}.${t.minor} is older than the ${name(s)} server`;
  return undefined;
}

/** `batt@127.0.0.1` (CURRENT_USER()) as information_schema's GRANTEE: `'batt'@'127.0.0.1'`. */
export function granteeOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  return `'${currentUser.slice(0, at)}'@'${currentUser.slice(at + 1)}'`;
}

/** The user's privileges as rows of [schema pattern ('' for global), privilege]. */
export function grantsQuery(grantee: string): string {
  const g = sqlString(grantee);
  return `SELECT '', PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${g} UNION ALL SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${g}`;
}

/** Rows of [schema, engine] for every base table whose engine takes no part in a transaction. */
export const lockedSchemasQuery = "SELECT DISTINCT table_schema, IFNULL(engine, '') FROM information_schema.tables WHERE table_type = 'BASE TABLE'";

/** The schemas whose dump needs table locks, from lockedSchemasQuery's rows. */
export function lockedSchemas(rows: readonly string[][]): Set<string> {
  return new Set(rows.filter(([, engine]) => engine !== '' && !transactional.has(engine.toLowerCase())).map(([schema]) => schema));
}

/** Does a schema grant's name (a LIKE pattern: `shop\_%`) cover `database`? */
function covers(pattern: string, database: string): boolean {
  const regex = pattern.replace(/\\(.)|([%_])|([^\\%_]+)/g, (_, escaped: string, wild: string, text: string) =>
    escaped !== undefined ? escaped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : wild ? (wild === '%' ? '.*' : '.') : text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${regex}$`, 's').test(database);
}

/**
 * The privileges a dump of `database` takes that `grants` (grantsQuery's rows) do not give:
 * SELECT, SHOW VIEW, TRIGGER and EVENT always (batt dumps views, triggers, routines and events),
 * LOCK TABLES where tables must be locked, and PROCESS on MySQL 8.0.21 and later (tablespaces).
 */
export function missingPrivileges(grants: readonly string[][], database: string, options: { lockTables: boolean; server?: ServerVersion }): string[] {
  const held = new Set(grants.filter(([schema]) => schema === '' || covers(schema, database)).map(([, privilege]) => privilege.toUpperCase()));
  const s = options.server;
  const needsProcess = s?.flavor === 'mysql' && (s.major > 8 || (s.major === 8 && (s.minor > 0 || s.patch >= 21)));
  const needed = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', ...(options.lockTables ? ['LOCK TABLES'] : []), ...(needsProcess ? ['PROCESS'] : [])];
  return needed.filter((p) => !held.has(p));
}

/**
 * A CREATE TABLE statement as compared before and after a dump: without the AUTO_INCREMENT
 * counter of its table options (inserted rows move it) and without its `;` and line ends.
 */
export function normalDefinition(text: string): string {
  const end = text.lastIndexOf(')');
  const options = end < 0 ? text : text.slice(end);
  return (text.slice(0, text.length - options.length) + options.replace(/ AUTO_INCREMENT=\d+/, '')).replace(/[\s;]+$/, '');
}

/**
 * The tables DDL reached while they were dumped: `--single-transaction` keeps the rows of one
 * moment, but not a table's definition. `before` holds each table's CREATE statement read just
 * before the dump started (undefined where none is compared: sequences); `dumped` is what the
 * dump holds. A table whose definition differs was altered before mysqldump reached it (an
 * instant ALTER leaves the rows readable, so mysqldump says nothing). A table dropped or renamed
 * after mysqldump listed the tables makes mysqldump fail (ddlInDumpError); one dropped, renamed
 * or made before it listed them leaves a dump consistent without it, so the lists are not compared.
 */
export function ddlDuringDump(before: ReadonlyMap<string, string | undefined>, dumped: { definitions: Readonly<Record<string, string>> }): string[] {
  const found: string[] = [];
  for (const [table, definition] of before) {
    const held = dumped.definitions[table];
    if (definition !== undefined && held !== undefined && normalDefinition(definition) !== normalDefinition(held)) found.push(`\`${table}\` (its definition changed)`);
  }
  return found;
}

/**
 * The table a failed mysqldump names when DDL reached it during the dump, from its stderr:
 * "Table definition has changed" (error 1412: an ALTER that rebuilt the table or added an index,
 * or a TRUNCATE, after the dump's snapshot) or a table of `known` that no longer exists (1146:
 * dropped or renamed after mysqldump listed it).
 */
export function ddlInDumpError(stderr: string, known: { has(table: string): boolean }): string | undefined {
  const changed = /Error 1412: Table definition has changed.* when dumping table `((?:[^`]|``)*)`/.exec(stderr);
  if (changed) return `\`${changed[1].replace(/``/g, '`')}\` (altered or truncated)`;
  const gone =
    /Couldn't execute '(?:show create table|SHOW CREATE TABLE|show fields from|SELECT .*? FROM) `((?:[^`]|``)*)`.*\(1146\)/.exec(stderr) ??
    /Couldn't read status information for table (.*) \(/.exec(stderr);
  const table = gone?.[1].replace(/``/g, '`');
  return table !== undefined && known.has(table) ? `\`${table}\` (dropped or renamed)` : undefined;
}

/** A comment of `--master-data=2` read into the dump's binlog position: the file and position, then the GTID position that matches them. */
export function binlogComment(line: string, binlog?: { file: string; position: number; gtid?: string }): typeof binlog {
  const at = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);/.exec(line);
  if (at) return { file: at[1], position: Number(at[2]) };
  const gtid = /^-- SET GLOBAL gtid_slave_pos='([^']*)';/.exec(line);
  return gtid && binlog ? { ...binlog, gtid: gtid[1] } : binlog;
}
