/** The backup side: the servers to back up, and an RDB snapshot of each, checked before it streams. */
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BattError, privateScratch, toolVersion, type BackupStream } from '@batt/core/kit';
import { infoField, parseKeyspace } from './args.js';
import { checkRdb, cli, connectionOf } from './session.js';
import type { RedisContext } from './index.js';

export async function listTargets(ctx: RedisContext, requested: readonly string[]): Promise<string[]> {
  const bad = requested.filter((db) => !/^\d+$/.test(db));
  if (bad.length) {
    throw new BattError('USAGE', `--redis-db takes logical database numbers, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`, {
      hint: 'e.g. --redis-db 0; the snapshot always holds every database',
    });
  }
  const main = connectionOf(ctx.config);
  return [...new Set([`${main.host}:${main.port}`, ...(ctx.config.servers ?? [])])];
}

export async function backup(ctx: RedisContext, target: string): Promise<BackupStream> {
  const conn = connectionOf(ctx.config, target);
  const dir = privateScratch(ctx.home, 'redis-');
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const [server, keyspace, tool] = await Promise.all([cli(ctx, conn, 'INFO', 'server'), cli(ctx, conn, 'INFO', 'keyspace'), toolVersion('redis-cli')]);
    const rdb = join(dir, 'dump.rdb');
    await cli(ctx, conn, '--rdb', rdb);
    await checkRdb(ctx, rdb, `the snapshot of ${target}`);
    const keys = parseKeyspace(keyspace);
    return {
      stream: createReadStream(rdb, { highWaterMark: 1024 * 1024 }),
      done: Promise.resolve({
        toolVersion: tool,
        serverVersion: infoField(server, 'redis_version'),
        facts: { keyspace: keys, keys: Object.values(keys).reduce((n, k) => n + k.keys, 0) },
      }),
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
