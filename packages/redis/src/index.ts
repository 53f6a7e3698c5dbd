/**
 * The `redis` service: one RDB snapshot per server, fetched with `redis-cli --rdb` and checked
 * with `redis-check-rdb` before batt streams it into its pipeline; key counts per logical
 * database are recorded. Restore starts a private scratch redis-server on the snapshot and
 * copies the keys, TTLs included, into the target server with MIGRATE (only the databases
 * named with --redis-db, when some are).
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BattError,
  assertChecks,
  collect,
  compareCounts,
  counted,
  definePlugin,
  passwordOf,
  privateScratch,
  runTool,
  serverKeys,
  spawnTool,
  toolFailure,
  toolVersion,
  type PluginContext,
  type RestoreSource,
  type ToolResult,
} from '@batt/core/kit';
import { authEnv, connectionArgs, infoField, migrateCommand, parseKeyspace, type Connection } from './args.js';

export * from './args.js';

function connectionOf(config: Record<string, unknown>, target?: string): Connection {
  const password = passwordOf('redis', config);
  const [host, port] = target && target.includes(':') ? [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))] : [undefined, undefined];
  return {
    host: host ?? (config.host as string | undefined) ?? '127.0.0.1',
    port: port ?? (config.port as number | undefined) ?? 6379,
    user: config.user as string | undefined,
    password,
  };
}

function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  if (/NOAUTH|WRONGPASS|invalid password|AUTH failed/i.test(error.message)) {
    return new BattError('TOOL_FAILED', `redis: authentication failed: ${error.message}`, { hint: 'check redis.password (or BATT_REDIS_PASSWORD / REDISCLI_AUTH)' });
  }
  if (/Connection refused|Could not connect/i.test(error.message)) {
    return new BattError('TOOL_FAILED', `redis: cannot reach the server: ${error.message}`, { hint: 'check redis.host and redis.port, and that the server runs' });
  }
  return error;
}

async function cli(ctx: PluginContext, conn: Connection, ...args: string[]): Promise<string> {
  try {
    const out = await runTool('redis-cli', [...connectionArgs(conn), '--no-auth-warning', ...args], { env: authEnv(conn), signal: ctx.signal, debianPackage: 'redis-tools' });
    // redis-cli prints server errors on stdout and still exits 0.
    if (/^(ERR|NOAUTH|WRONGPASS|Could not connect)/m.test(out)) throw new BattError('TOOL_FAILED', `redis-cli: ${out.trim()}`);
    return out;
  } catch (error) {
    throw explain(error);
  }
}

/** Keys per logical database (`db0: 12`), for the databases given or all of them. */
function keyCounts(keyspace: Record<string, { keys: number }>, dbs = Object.keys(keyspace)): Record<string, number> {
  return Object.fromEntries(dbs.map((db) => [`db${db}`, keyspace[db]?.keys ?? 0]));
}

const restoreDbs = (ctx: PluginContext): string[] => ((ctx.config.restore_dbs as string[] | undefined) ?? []).map(String);

/** redis-check-rdb must say the file is whole. */
async function checkRdb(ctx: PluginContext, rdb: string, what: string): Promise<void> {
  const checker = await spawnTool('redis-check-rdb', [rdb], { debianPackage: 'redis-tools', signal: ctx.signal });
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
}

/**
 * A private redis-server loaded from the artifact's RDB. It listens on a Unix socket in a 0700
 * folder and on no TCP port: no other local user can read the restored data through it, and no
 * other server can answer in its place (a free port can be taken before the server binds it).
 */
async function loadScratch(ctx: PluginContext, source: RestoreSource): Promise<{ conn: Connection; keyspace: ReturnType<typeof parseKeyspace>; stop(): Promise<void> }> {
  const dir = privateScratch(ctx.home, 'redis-restore-');
  // A socket path has at most 107 bytes; a deep home gets a private folder in /tmp for it.
  const socketDir = join(dir, 'redis.sock').length < 100 ? dir : mkdtempSync(join(tmpdir(), 'batt-redis-'));
  let server: Awaited<ReturnType<typeof spawnTool>> | undefined;
  const stop = async (): Promise<void> => {
    server?.kill('SIGKILL');
    await server?.result;
    for (const d of new Set([dir, socketDir])) rmSync(d, { recursive: true, force: true });
  };
  try {
    await pipeline(source.open(), createWriteStream(join(dir, 'dump.rdb'), { mode: 0o600 }));
    await checkRdb(ctx, join(dir, 'dump.rdb'), 'the artifact');
    const socket = join(socketDir, 'redis.sock');
    server = await spawnTool(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
      { stdout: 'ignore', signal: ctx.signal, debianPackage: 'redis-server' },
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

export const redisPlugin = definePlugin({
  name: 'redis',
  summary: 'Redis servers, as a checked RDB snapshot each',
  targetOption: { name: 'redis-db', describe: 'a logical database number to restore later (repeatable); implies the redis service' },
  configKeys: {
    ...serverKeys('redis', 'server host (default 127.0.0.1; port 6379)', ' or REDISCLI_AUTH'),
    servers: { type: 'string[]', describe: 'more servers to back up, as host:port' },
  },
  extension: '.rdb',

  async listTargets(ctx, requested) {
    const bad = requested.filter((db) => !/^\d+$/.test(db));
    if (bad.length) {
      throw new BattError('USAGE', `--redis-db takes logical database numbers, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`, {
        hint: 'e.g. --redis-db 0; the snapshot always holds every database',
      });
    }
    const main = connectionOf(ctx.config);
    return [...new Set([`${main.host}:${main.port}`, ...((ctx.config.servers as string[] | undefined) ?? [])])];
  },

  async backup(ctx, target) {
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
  },

  async planRestore(ctx, _target, into) {
    const target = connectionOf(ctx.config, into);
    const only = restoreDbs(ctx);
    const keys = parseKeyspace(await cli(ctx, target, 'INFO', 'keyspace'));
    const busy = Object.entries(keys).filter(([db, k]) => k.keys > 0 && (only.length === 0 || only.includes(db)));
    return {
      label: `redis ${target.host}:${target.port}${only.length ? ` db ${only.join(',')}` : ''}${busy.length ? ` (holds keys in db ${busy.map(([db]) => db).join(',')})` : ''}`,
      exists: busy.length > 0,
    };
  },

  /**
   * Loads the RDB into a private scratch server and MIGRATEs its keys, TTLs included, into
   * `into` (host:port; default the server it was backed up from); only the databases given with
   * --redis-db when some are. A target database holding keys is refused unless forced.
   */
  async restore(ctx, _target, source, options) {
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
        const keys = (await cli(ctx, scratch.conn, '-n', db, '--scan')).split('\n').filter(Boolean);
        const lines: string[] = [];
        for (let i = 0; i < keys.length; i += 200) lines.push(migrateCommand(target, db, keys.slice(i, i + 200), options.force));
        if (lines.length === 0) continue;
        const child = await spawnTool('redis-cli', [...connectionArgs(scratch.conn), '-n', db], { stdin: Readable.from([`${lines.join('\n')}\n`]), signal: ctx.signal });
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
  },

  async verify(ctx, _target, source) {
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
  },

  async restoreTest(ctx, _target, source) {
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
  },
});

export default redisPlugin;
