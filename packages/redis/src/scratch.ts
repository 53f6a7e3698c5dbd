/** The private scratch redis-server that restore and the restore drill load a backup's RDB into. */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BattError, privateScratch, toolFailure } from '@batt/core/kit';
import type { RestoreSource, ToolProcess, ToolResult } from '@batt/core/kit';
import { parseKeyspace, type Connection } from './args.js';
import { RespClient } from './resp.js';
import { checkRdb, cli } from './session.js';
import type { RedisContext } from './index.js';

/**
 * Waits for the scratch server: PING over the socket every 20 ms answers -LOADING while it reads
 * the RDB (as long as that takes), then PONG; no socket within 10 s, or an exit, is a failure.
 */
async function answers(server: ToolProcess, conn: Connection): Promise<void> {
  let exited: ToolResult | undefined;
  void server.result.then((result) => (exited = result));
  const hint = 'check that this redis-server can read the RDB version of the backup';
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 20))) {
    if (exited?.code === 'ENOENT') throw toolFailure('redis-server', exited, 'redis-server');
    if (exited) throw new BattError('TOOL_FAILED', `the scratch redis-server did not load the snapshot: ${toolFailure('redis-server', exited).message}`, { hint });
    const client = await RespClient.open(conn).catch(() => undefined);
    const [pong] = client ? await client.call([['PING']]).catch((error: Error) => [error]) : [undefined];
    client?.close();
    if (pong === 'PONG') return;
    if (!client && Date.now() - started > 10_000) throw new BattError('TOOL_FAILED', 'the scratch redis-server did not open its socket within 10 s', { hint });
  }
}

/**
 * A private redis-server loaded from the artifact's RDB. It listens on a Unix socket in a 0700
 * folder and on no TCP port: no other local user can read the restored data through it, and no
 * other server can answer in its place (a free port can be taken before the server binds it).
 */
export async function loadScratch(ctx: RedisContext, source: RestoreSource): Promise<{ conn: Connection; keyspace: ReturnType<typeof parseKeyspace>; stop(): Promise<void> }> {
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
    // redis-check-rdb reads the snapshot while the server loads it: its verdict, which names
    // what is damaged, goes first; then the server must answer.
    const checked = checkRdb(ctx, join(dir, 'dump.rdb'), 'the artifact');
    checked.catch(() => {});
    const socket = join(socketDir, 'redis.sock');
    server = await ctx.exec.spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
      { stdout: 'ignore', debianPackage: 'redis-server' },
    );
    const conn: Connection = { host: 'localhost', port: 0, socket };
    const loaded = answers(server, conn);
    loaded.catch(() => {});
    await checked;
    await loaded;
    return { conn, keyspace: parseKeyspace(await cli(ctx, conn, 'INFO', 'keyspace')), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
