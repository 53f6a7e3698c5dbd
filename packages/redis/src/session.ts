/** What backup and restore share: the connection, redis-cli, error explanations and redis-check-rdb. */
import type { Readable } from 'node:stream';
import { BattError, collect, passwordOf, toolFailure, which, type ConfigOf } from '@batt/core/kit';
import { authEnv, connectionArgs, type Connection } from './args.js';
import type { RedisContext, redisKeys } from './index.js';

export function connectionOf(config: ConfigOf<typeof redisKeys>, target?: string): Connection {
  const password = passwordOf('redis', config);
  const [host, port] = target && target.includes(':') ? [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))] : [undefined, undefined];
  return {
    host: host ?? config.host ?? '127.0.0.1',
    port: port ?? config.port ?? 6379,
    user: config.user,
    password,
  };
}

export function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  if (/NOAUTH|WRONGPASS|invalid password|AUTH failed/i.test(error.message)) {
    return new BattError('TOOL_FAILED', `redis: authentication failed: ${error.message}`, { hint: 'check redis.password (or BATT_REDIS_PASSWORD / REDISCLI_AUTH)' });
  }
  if (/Connection refused|Could not connect/i.test(error.message)) {
    return new BattError('TOOL_FAILED', `redis: cannot reach the server: ${error.message}`, { hint: 'check redis.host and redis.port, and that the server runs' });
  }
  return error;
}

export async function cli(ctx: RedisContext, conn: Connection, ...args: string[]): Promise<string> {
  try {
    const out = await ctx.exec.run('redis-cli', [...connectionArgs(conn), '--no-auth-warning', ...args], { env: authEnv(conn), debianPackage: 'redis-tools' });
    // redis-cli prints server errors on stdout and still exits 0.
    if (/^(ERR|NOAUTH|WRONGPASS|Could not connect)/m.test(out)) throw new BattError('TOOL_FAILED', `redis-cli: ${out.trim()}`);
    return out;
  } catch (error) {
    throw explain(error);
  }
}

/**
 * redis-check-rdb must say the RDB is whole: a file, or a stream it reads as its stdin. Resolves
 * with the number of keys it read (undefined where it does not say).
 */
export async function checkRdb(ctx: RedisContext, rdb: string | Readable, what: string): Promise<{ keys?: number }> {
  // A child's stdin from batt is a socket, which /dev/stdin cannot open: a shell pipe through
  // cat gives the checker a real one. A missing checker is started by name, to fail as missing.
  const tool = which('redis-check-rdb');
  const checker =
    typeof rdb !== 'string' && tool
      ? await ctx.exec.spawn('sh', ['-c', 'cat | exec "$0" /dev/stdin', tool], { debianPackage: 'redis-tools', stdin: rdb })
      : await ctx.exec.spawn('redis-check-rdb', [typeof rdb === 'string' ? rdb : '/dev/stdin'], { debianPackage: 'redis-tools' });
  const [check, checked] = await Promise.all([collect(checker.stdout), checker.result]);
  if (checked.code === 'ENOENT') throw toolFailure('redis-check-rdb', checked, 'redis-tools');
  if (checked.failed || !/RDB looks OK/i.test(check)) {
    const why =
      check
        .split('\n')
        .filter((l) => /error|fail|wrong|unexpected/i.test(l))
        .slice(-3)
        .join(' | ') || toolFailure('redis-check-rdb', checked).message;
    throw new BattError('TOOL_FAILED', `redis-check-rdb rejected ${what}: ${why}`, { hint: 'the RDB is damaged' });
  }
  const read = /^\[info\] (\d+) keys read$/m.exec(check);
  return { keys: read ? Number(read[1]) : undefined };
}
