/**
 * The pure part of the redis service: connection argv (never the password: that travels in
 * REDISCLI_AUTH), and INFO parsing.
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
