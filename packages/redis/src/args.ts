/**
 * The pure part of the redis service: connection argv (never the password: that travels in
 * REDISCLI_AUTH), INFO parsing and the quoting of commands fed to redis-cli on stdin.
 */

export interface Connection {
  host: string;
  port: number;
  /** A Unix socket instead of host and port (batt's own scratch server). */
  socket?: string;
  user?: string;
  password?: string;
}

/** redis-cli's connection options. */
export function connectionArgs(conn: Connection): string[] {
  return [...(conn.socket ? ['-s', conn.socket] : ['-h', conn.host, '-p', String(conn.port)]), ...(conn.user ? ['--user', conn.user] : [])];
}

/** The environment that carries the password to redis-cli. */
export function authEnv(conn: Connection): NodeJS.ProcessEnv {
  return conn.password ? { REDISCLI_AUTH: conn.password } : {};
}

/** `db0:keys=3,expires=1,avg_ttl=0` lines of INFO keyspace → { 0: { keys: 3, expires: 1 } }. */
export function parseKeyspace(info: string): Record<string, { keys: number; expires: number }> {
  const out: Record<string, { keys: number; expires: number }> = {};
  for (const m of info.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)) out[m[1]] = { keys: Number(m[2]), expires: Number(m[3]) };
  return out;
}

/** A field of INFO, e.g. redis_version. */
export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** An argument for a command line read by redis-cli from stdin: double-quoted, escaped. */
export function quoteArg(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** One MIGRATE command copying `keys` (with their TTLs) into db `db` of the target server. */
export function migrateCommand(target: Connection, db: string, keys: readonly string[], replace: boolean): string {
  const auth = target.password ? (target.user ? ` AUTH2 ${quoteArg(target.user)} ${quoteArg(target.password)}` : ` AUTH ${quoteArg(target.password)}`) : '';
  return `MIGRATE ${quoteArg(target.host)} ${target.port} "" ${db} 10000 COPY${replace ? ' REPLACE' : ''}${auth} KEYS ${keys.map(quoteArg).join(' ')}`;
}
