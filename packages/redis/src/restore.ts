/** The restore side: a scratch server loaded from the snapshot, MIGRATE into the target, planRestore, verify and the restore drill. */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BattError, assertChecks, collect, compareCounts, counted, privateScratch, toolFailure } from '@batt/core/kit';
import type { Check, RestoreOptions, RestorePlan, RestoreSource, ToolProcess, ToolResult } from '@batt/core/kit';
import { connectionArgs, migrateCommand, parseKeyspace, type Connection } from './args.js';
import { checkRdb, cli, connectionOf, explain } from './session.js';
import type { RedisContext } from './index.js';

/** Keys per logical database (`db0: 12`), for the databases given or all of them. */
function keyCounts(keyspace: Record<string, { keys: number }>, dbs = Object.keys(keyspace)): Record<string, number> {
  return Object.fromEntries(dbs.map((db) => [`db${db}`, keyspace[db]?.keys ?? 0]));
}

/**
 * The databases named with `batt restore --redis-db`: the command puts them into the section as
 * `restore_dbs`, a value no configuration file may set (it is no key of the service).
 */
function restoreDbs(ctx: RedisContext): string[] {
  const dbs = 'restore_dbs' in ctx.config ? ctx.config.restore_dbs : undefined;
  return Array.isArray(dbs) ? dbs.map(String) : [];
}

/**
 * A private redis-server loaded from the artifact's RDB. It listens on a Unix socket in a 0700
 * folder and on no TCP port: no other local user can read the restored data through it, and no
 * other server can answer in its place (a free port can be taken before the server binds it).
 */
async function loadScratch(ctx: RedisContext, source: RestoreSource): Promise<{ conn: Connection; keyspace: ReturnType<typeof parseKeyspace>; stop(): Promise<void> }> {
  const dir = privateScratch(ctx.home, 'redis-restore-');
  // A socket path has at most 107 bytes; a deep home gets a private folder in /tmp for it.
  const socketDir = join(dir, 'redis.sock').length < 100 ? dir : mkdtempSync(join(tmpdir(), 'batt-redis-'));
  let server: ToolProcess | undefined;
  const stop = async (): Promise<void> => {
    server?.kill('SIGKILL');
    await server?.result;
    for (const d of new Set([dir, socketDir])) rmSync(d, { recursive: true, force: true });
  };
  try {
    await pipeline(source.open(), createWriteStream(join(dir, 'dump.rdb'), { mode: 0o600 }));
    await checkRdb(ctx, join(dir, 'dump.rdb'), 'the artifact');
    const socket = join(socketDir, 'redis.sock');
    server = await ctx.exec.spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
      { stdout: 'ignore', debianPackage: 'redis-server' },
    );
    const conn: Connection = { host: 'localhost', port: 0, socket };
    let exited: ToolResult | undefined;
    void server.result.then((result) => (exited = result));
    const hint = 'check that this redis-server can read the RDB version of the backup';
    for (let i = 0; ; i++) {
      const pong = await cli(ctx, conn, 'PING').catch(() => '');
      if (pong.trim() === 'PONG') break;
      if (exited?.code === 'ENOENT') throw toolFailure('redis-server', exited, 'redis-server');
      if (exited) throw new BattError('TOOL_FAILED', `the scratch redis-server did not load the snapshot: ${toolFailure('redis-server', exited).message}`, { hint });
      if (i > 100) throw new BattError('TOOL_FAILED', 'the scratch redis-server did not load the snapshot within 10 s', { hint });
      await new Promise((r) => setTimeout(r, 100));
    }
    return { conn, keyspace: parseKeyspace(await cli(ctx, conn, 'INFO', 'keyspace')), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function planRestore(ctx: RedisContext, _target: string, into: string): Promise<RestorePlan> {
  const target = connectionOf(ctx.config, into);
  const only = restoreDbs(ctx);
  const keys = parseKeyspace(await cli(ctx, target, 'INFO', 'keyspace'));
  const busy = Object.entries(keys).filter(([db, k]) => k.keys > 0 && (only.length === 0 || only.includes(db)));
  return {
    label: `redis ${target.host}:${target.port}${only.length ? ` db ${only.join(',')}` : ''}${busy.length ? ` (holds keys in db ${busy.map(([db]) => db).join(',')})` : ''}`,
    exists: busy.length > 0,
  };
}

/**
 * Loads the RDB into a private scratch server and MIGRATEs its keys, TTLs included, into
 * `into` (host:port; default the server it was backed up from); only the databases given with
 * --redis-db when some are. A target database holding keys is refused unless forced.
 */
export async function restore(ctx: RedisContext, _target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const target = connectionOf(ctx.config, options.into);
  const only = restoreDbs(ctx);
  const scratch = await loadScratch(ctx, source);
  try {
    const targetKeys = parseKeyspace(await cli(ctx, target, 'INFO', 'keyspace'));
    const dbs = Object.keys(scratch.keyspace).filter((db) => only.length === 0 || only.includes(db));
    for (const db of dbs) {
      if ((targetKeys[db]?.keys ?? 0) > 0 && !options.force) {
        throw new BattError('USAGE', `database ${db} of ${target.host}:${target.port} already holds ${targetKeys[db].keys} keys`, {
          hint: 'restore into an empty server or database, or pass --force to replace keys',
        });
      }
    }
    for (const db of dbs) {
      // KEYS, not --scan: the scratch server is batt's own, so blocking it hurts no one, and one
      // reply replaces a SCAN round trip per 10 keys (100,000 of them for a million keys), and
      // SCAN may return a key twice, which MIGRATE without REPLACE would refuse the second time.
      const keys = (await cli(ctx, scratch.conn, '-n', db, 'KEYS', '*')).split('\n').filter(Boolean);
      const lines: string[] = [];
      for (let i = 0; i < keys.length; i += 200) lines.push(migrateCommand(target, db, keys.slice(i, i + 200), options.force));
      if (lines.length === 0) continue;
      const child = await ctx.exec.spawn('redis-cli', [...connectionArgs(scratch.conn), '-n', db], { stdin: Readable.from([`${lines.join('\n')}\n`]) });
      const [out, result] = await Promise.all([collect(child.stdout), child.result]);
      if (result.failed || /ERR|BUSYKEY|NOAUTH|IOERR/.test(out))
        throw explain(new BattError('TOOL_FAILED', `restoring keys of database ${db} failed: ${out.trim() || toolFailure('redis-cli', result).message}`));
    }
    const after = parseKeyspace(await cli(ctx, target, 'INFO', 'keyspace'));
    return assertChecks('the restored keys do not match the snapshot', [
      { name: 'redis-check-rdb', ok: true, detail: 'the snapshot loaded into a scratch server' },
      options.force
        ? { name: 'keys', ok: true, detail: `${counted(dbs.length, 'database')} migrated (--force: existing keys may remain)` }
        : compareCounts('keys against the snapshot', keyCounts(scratch.keyspace, dbs), keyCounts(after, dbs), { group: 'database', unit: 'key' }),
    ]);
  } finally {
    await scratch.stop();
  }
}

export async function verify(ctx: RedisContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const dir = privateScratch(ctx.home, 'redis-verify-');
  try {
    const rdb = join(dir, 'dump.rdb');
    await pipeline(source.open(), createWriteStream(rdb, { mode: 0o600 }));
    await checkRdb(ctx, rdb, 'the artifact');
    return [{ name: 'redis-check-rdb', ok: true, detail: 'RDB looks OK' }];
  } catch (error) {
    return [{ name: 'redis-check-rdb', ok: false, detail: (error as Error).message }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function restoreTest(ctx: RedisContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const scratch = await loadScratch(ctx, source);
  try {
    const recorded = source.facts.keyspace as Record<string, { keys: number }> | undefined;
    return [
      { name: 'load', ok: true, detail: 'a scratch redis-server loaded the snapshot' },
      compareCounts('keys against the backup', recorded && keyCounts(recorded), keyCounts(scratch.keyspace), { group: 'database', unit: 'key' }),
    ];
  } finally {
    await scratch.stop();
  }
}
