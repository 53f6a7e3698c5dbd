/**
 * The pure part of the mongodb service: the 0600 YAML config file that carries the password
 * (mongodump --config), and the argv. Database names are values of `--db=`, never positional.
 */

export interface Connection {
  uri?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  authDatabase?: string;
  tls?: boolean;
}

/** The whole instance, dumped as one archive (with --oplog on a replica set). */
export const ALL = '@all';

/** A YAML double-quoted scalar. */
function yamlString(value: string): string {
  return JSON.stringify(value);
}

/** mongodump/mongorestore --config file: only the secrets go here. */
export function configFile(conn: Connection): string {
  const lines: string[] = [];
  if (conn.password !== undefined) lines.push(`password: ${yamlString(conn.password)}`);
  if (conn.uri) lines.push(`uri: ${yamlString(conn.uri)}`);
  return `${lines.join('\n')}\n`;
}

function connectionArgs(conn: Connection): string[] {
  if (conn.uri) return [];
  return [
    ...(conn.host ? [`--host=${conn.host}`] : []),
    ...(conn.port ? [`--port=${conn.port}`] : []),
    ...(conn.user ? [`--username=${conn.user}`, `--authenticationDatabase=${conn.authDatabase ?? 'admin'}`] : []),
    ...(conn.tls ? ['--ssl'] : []),
  ];
}

/** mongodump's argv: archive to stdout, uncompressed (batt compresses). */
export function dumpArgs(config: string, conn: Connection, database: string, replicaSet: boolean): string[] {
  return [`--config=${config}`, ...connectionArgs(conn), '--archive', ...(database === ALL ? (replicaSet ? ['--oplog'] : []) : [`--db=${database}`])];
}

/** mongorestore's argv: archive from stdin, renaming `from.*` to `to.*`. */
export function restoreArgs(config: string, conn: Connection, from: string, to: string, drop: boolean): string[] {
  const rename = from === ALL ? [] : [`--nsInclude=${from}.*`, `--nsFrom=${from}.*`, `--nsTo=${to}.*`];
  return [`--config=${config}`, ...connectionArgs(conn), '--archive', ...rename, ...(drop ? ['--drop'] : [])];
}
