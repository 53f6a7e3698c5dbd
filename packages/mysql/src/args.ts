/**
 * The pure part of the mysql service: option files, argv and SQL text. Database names are data:
 * they go after `--` on command lines and into SQL as hex literals or backtick-quoted names,
 * so a database called `--result-file=/tmp/x` or `x'; DROP` is only ever a name.
 */

export interface Connection {
  host?: string;
  port?: number;
  socket?: string;
  user?: string;
  password?: string;
  sslMode?: string;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
}

/** A value for a MySQL option file, double-quoted with backslash escapes. */
function optionValue(value: string | number): string {
  return `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The `[client]` option file handed to every client with --defaults-file (mode 0600). */
export function clientOptionFile(conn: Connection): string {
  const lines = ['[client]'];
  const add = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') lines.push(`${key}=${optionValue(value)}`);
  };
  add('host', conn.host);
  add('port', conn.port);
  add('socket', conn.socket);
  add('user', conn.user);
  add('password', conn.password);
  if (conn.sslMode === 'disabled') lines.push('skip-ssl');
  else if (conn.sslMode) lines.push('ssl');
  if (conn.sslMode === 'verify_identity' || conn.sslMode === 'verify_ca') lines.push('ssl-verify-server-cert');
  add('ssl-ca', conn.sslCa);
  add('ssl-cert', conn.sslCert);
  add('ssl-key', conn.sslKey);
  return `${lines.join('\n')}\n`;
}

export interface DumpOptions {
  /** Lock tables instead of one transaction: for MyISAM/Aria and other non-transactional engines. */
  lockTables: boolean;
  /** 'schema' (no rows), 'data' (no CREATE statements) or 'all'. */
  part: 'all' | 'schema' | 'data';
  /** Write the binlog position of the snapshot as a comment (`--master-data=2`): MariaDB's dump tool and server, binlog on, one transaction. */
  binlogPosition?: boolean;
}

/** mysqldump's argv for one database. The option file (--defaults-file) must come first. */
export function dumpArgs(optionFile: string, database: string, options: DumpOptions): string[] {
  return [
    `--defaults-file=${optionFile}`,
    options.lockTables ? '--lock-tables' : '--single-transaction',
    ...(options.binlogPosition && !options.lockTables ? ['--master-data=2'] : []),
    ...(options.part === 'data' ? ['--no-create-info', '--skip-triggers'] : ['--routines', '--triggers', '--events']),
    ...(options.part === 'schema' ? ['--no-data'] : []),
    '--hex-blob',
    '--quick',
    '--default-character-set=utf8mb4',
    '--',
    database,
  ];
}

/** `name` as a MySQL identifier: backticks, with backticks doubled. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `text` as a SQL string literal that no quoting can break: a utf8mb4 hex literal. */
export function sqlString(text: string): string {
  return `CONVERT(0x${Buffer.from(text, 'utf8').toString('hex') || '00'} USING utf8mb4)`;
}

/** Decodes a `mysql -B` cell: \\t, \\n, \\0 and \\\\ escapes. */
export function unescapeBatch(cell: string): string {
  return cell.replace(/\\([tn0\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === '0' ? '\0' : '\\'));
}

/** Rows of `mysql -N -B` output. */
export function parseBatch(output: string): string[][] {
  return output === '' ? [] : output.split('\n').map((line) => line.split('\t').map(unescapeBatch));
}

export const systemSchemas = ['information_schema', 'performance_schema', 'sys', 'mysql'];

/** The databases a backup of all leaves out: the system schemas (but `mysql` with include_system) and mysql.exclude. */
export function skipped(config: { readonly include_system?: boolean; readonly exclude?: readonly string[] }): Set<string> {
  return new Set([...systemSchemas.filter((s) => !(s === 'mysql' && config.include_system === true)), ...(config.exclude ?? [])]);
}

/** The query for a database's tables with their engines (views have no engine) and data sizes (the server's estimate). */
export function tablesQuery(database: string): string {
  return `SELECT table_name, IFNULL(engine, ''), table_type, IFNULL(data_length, 0) FROM information_schema.tables WHERE table_schema = ${sqlString(database)} ORDER BY table_name`;
}

/** One query that counts the rows of every table given. */
export function rowCountQuery(database: string, tables: readonly string[]): string {
  return tables.map((t) => `SELECT ${sqlString(t)}, COUNT(*) FROM ${quoteIdent(database)}.${quoteIdent(t)}`).join(' UNION ALL ');
}

/** Engines whose tables take part in a consistent-snapshot transaction (lower case). */
export const transactional = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb', 'ndbcluster', 'ndb']);

/** Tables whose engine cannot take part in a consistent-snapshot transaction. */
export function nonTransactionalTables(rows: readonly string[][]): string[] {
  return rows.filter(([, engine, type]) => type === 'BASE TABLE' && engine !== '' && !transactional.has(engine.toLowerCase())).map(([name, engine]) => `${name} (${engine})`);
}

/**
 * SHOW CREATE TABLE for each table, in the session mysqldump dumps in (sql_mode '' and utf8mb4),
 * so each definition reads as the dump will hold it. Rows of [table, CREATE statement].
 */
export function definitionsQuery(database: string, tables: readonly string[]): string {
  const shows = tables.map((t) => `SHOW CREATE TABLE ${quoteIdent(database)}.${quoteIdent(t)}`);
  return ["SET SESSION sql_mode = ''", 'SET SESSION sql_quote_show_create = 1', 'SET NAMES utf8mb4', ...shows].join('; ');
}
