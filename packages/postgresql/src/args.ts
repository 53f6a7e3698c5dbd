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

/**
 * A psql script (it needs `\gexec`, so psql reads it on stdin): the server's version, then, with
 * `rows`, one `"schema.table"<TAB>count` line per user table. Names come as JSON strings, so a tab
 * or newline in a name stays inside its line. One psql for what took two.
 */
/**
 * `rows`: the rows of every user table too. `own`: as a dump holds them, each table's own rows
 * (FROM ONLY) and no partitioned parent, which holds none itself (backups that counted rows from
 * the dump); else count(*) of every table in pg_tables (older backups recorded those).
 */
export function factsScript(rows: boolean, own = false): string {
  const version = "SELECT current_setting('server_version_num'), version();\n";
  if (!rows) return version;
  if (own) {
    return `${version}SELECT format('SELECT %L, count(*) FROM ONLY %I.%I', to_json(n.nspname || '.' || c.relname)::text, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' ORDER BY 1
\\gexec
`;
  }
  return `${version}SELECT format('SELECT %L, count(*) FROM %I.%I', to_json(schemaname || '.' || tablename)::text, schemaname, tablename)
  FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
\\gexec
`;
}

/** What psql printed for factsScript: version lines first, then rows per table. */
export function parseFacts(out: string): { versionNum?: string; version?: string; rowCounts: Record<string, number> } {
  const [head = '', ...rows] = out.split('\n').filter(Boolean);
  const [versionNum, version] = head.split('\t');
  const rowCounts = Object.fromEntries(
    rows.map((line) => {
      const tab = line.lastIndexOf('\t');
      return [JSON.parse(line.slice(0, tab)) as string, Number(line.slice(tab + 1))];
    }),
  );
  return { versionNum, version, rowCounts };
}

/** Where Debian's pg_wrapper lives; /usr/bin/psql, pg_dump and the rest are links to it. */
export const PG_WRAPPER = '/usr/share/postgresql-common/pg_wrapper';

/**
 * True when pg_wrapper would point libpq nowhere else than batt's conninfo does. The wrapper sets
 * PGHOST and PGPORT from a local cluster when it picks one, which it does only without PGHOST in
 * the environment; the conninfo overrides both only when it names host and port (a PGPORT
 * already set, the wrapper leaves alone).
 */
export function wrapperLeavesConnection(conn: Connection, env: NodeJS.ProcessEnv): boolean {
  return env.PGHOST !== undefined || (Boolean(conn.host) && (conn.port !== undefined || Boolean(env.PGPORT)));
}

/**
 * The binary pg_wrapper runs for `tool`, from what the tool said through it (`pg_dump
 * (PostgreSQL) 15.20 …`): the wrapper chose that version from the environment and local
 * clusters (and options batt does not pass), the same for every call of a run. Not for a psql
 * older than 13, for which the wrapper also preloads readline.
 */
export function wrappedBinary(tool: string, version: string | undefined): string | undefined {
  const m = /^\S+ \(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(version ?? '');
  if (!m) return undefined;
  const major = Number(m[1]);
  if (tool === 'psql' && major < 13) return undefined;
  return `/usr/lib/postgresql/${major >= 10 ? major : `${major}.${m[2]}`}/bin/${tool}`;
}

/** The one variable pg_wrapper sets that libpq reads (pg_service.conf's folder), as it sets it. */
export const wrapperEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ PGSYSCONFDIR: env.PGSYSCONFDIR ?? '/etc/postgresql-common' });
