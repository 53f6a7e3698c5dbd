/**
 * Restore by replication: an empty target server loads the snapshot itself, as a replica loads
 * its master's RDB, at the speed it loads its own dump.rdb. batt is the master for the moment it
 * takes: it listens on the address the target sees it at, the target is told `REPLICAOF` that
 * address, and batt answers its `PSYNC` with the RDB. Once the target has loaded it, it is made a
 * master again (`REPLICAOF NO ONE`) and its masterauth set back.
 *
 * Only the replica that knows a random token batt set as the target's masterauth for the moment
 * gets the snapshot: another local process that finds the port gets an error. The RDB is checked
 * whole (redis-check-rdb) before its last byte goes out, so a damaged snapshot never loads: a
 * replica waits for the whole payload before it loads it, unless it loads from the socket
 * (repl-diskless-load), and then the check comes first.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BattError, counted, privateScratch, type Check, type RestoreSource } from '@batt/core/kit';
import { infoField, parseKeyspace } from './args.js';
import { firstError, ReplyParser, type Command, type Reply, type RespClient } from './resp.js';
import { checkRdb } from './session.js';
import type { RedisContext } from './index.js';

const text = (reply: Reply | undefined): string => (Buffer.isBuffer(reply) ? reply.toString() : typeof reply === 'string' ? reply : '');
/** Does an INFO keyspace reply show a key in any database? A full sync would replace them. */
const holdsKeys = (keyspace: Reply): boolean => Object.values(parseKeyspace(text(keyspace))).some((db) => db.keys > 0);

/** Why the target cannot load the snapshot as a replica (then the keys are copied one by one), or its settings to put back. */
export async function replicaPreflight(to: RespClient): Promise<{ masterauth: string; diskless: boolean } | { declined: string }> {
  const [replication, keyspace, masterauth, diskless] = await to.call([
    ['INFO', 'replication'],
    ['INFO', 'keyspace'],
    ['CONFIG', 'GET', 'masterauth'],
    ['CONFIG', 'GET', 'repl-diskless-load'],
  ]);
  const error = firstError([replication, keyspace, masterauth, diskless]);
  if (error) return { declined: `the target refused INFO or CONFIG GET (${error})` };
  if (infoField(text(replication), 'role') !== 'master') return { declined: 'the target is a replica' };
  if (holdsKeys(keyspace)) return { declined: 'the target holds keys' };
  const value = (reply: Reply): string => (Array.isArray(reply) ? text(reply[1]) : '');
  return { masterauth: value(masterauth), diskless: value(diskless) !== 'disabled' };
}

/** The listening side: answers one authenticated PSYNC with the RDB, and counts the syncs asked for. */
export class SnapshotMaster {
  readonly server: Server;
  readonly token = randomBytes(24).toString('hex');
  /** Resolves at the first authenticated PSYNC (or SYNC) with the replica's socket, and whether it reads an EOF-marked payload. */
  readonly synced: Promise<{ socket: Socket; eof: boolean }>;
  /** PSYNCs after the first: the target failed to load the snapshot and asks again. */
  retries = 0;
  private sockets = new Set<Socket>();

  constructor() {
    let resolve!: (link: { socket: Socket; eof: boolean }) => void;
    this.synced = new Promise((r) => (resolve = r));
    let first = false;
    this.server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      let authed = false;
      let eof = false;
      // Once it has asked PSYNC, the replica sends only a bare newline now and then while it
      // loads (no command) and REPLCONF ACK once linked: nothing to answer or read.
      let linked = false;
      const parser = new ReplyParser((reply) => {
        const [name, ...args] = Array.isArray(reply) ? reply.map(text) : [];
        const command = name?.toUpperCase();
        if (command === 'PING') socket.write('+PONG\r\n');
        else if (command === 'AUTH') {
          authed = args.at(-1) === this.token;
          socket.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair\r\n');
        } else if (!authed) socket.end('-NOAUTH Authentication required.\r\n');
        else if (command === 'PSYNC' || command === 'SYNC') {
          if (first) {
            this.retries++;
            socket.end('-ERR batt sends its snapshot once\r\n');
          } else {
            first = linked = true;
            resolve({ socket, eof });
          }
        } else {
          if (command === 'REPLCONF' && args[0]?.toLowerCase() === 'capa') eof ||= args.some((a) => a.toLowerCase() === 'eof');
          socket.write('+OK\r\n');
        }
      });
      socket.on('data', (chunk: Buffer) => {
        if (linked) return;
        try {
          parser.push(chunk);
        } catch {
          socket.destroy();
        }
      });
    });
  }

  async listen(host: string): Promise<number> {
    this.server.listen(0, host);
    await once(this.server, 'listening');
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  close(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Writes the snapshot as a full resync in the EOF-marked form (`$EOF:<mark>`, a replica that
 * announced `capa eof` reads until the mark): the RDB as it is decompressed, fed to `check` at
 * the same time when given, and the mark only once `verdict` passed.
 */
async function sendSnapshot(socket: Socket, rdb: Readable, check: PassThrough | undefined, verdict: Promise<unknown>): Promise<void> {
  const closed = once(socket, 'close').then(() => {
    throw new BattError('TOOL_FAILED', 'the target redis-server closed the replication link while batt sent the snapshot', { hint: "see the target server's log" });
  });
  closed.catch(() => {});
  // A checker that stops reading has rejected the snapshot: its verdict, a failure, ends the wait.
  const rejected = verdict.then(() => new Promise<never>(() => {}));
  rejected.catch(() => {});
  const write = async (to: Writable, chunk: Buffer | string): Promise<void> => {
    if (!to.write(chunk)) await Promise.race([once(to, 'drain'), closed, rejected]);
  };
  const mark = randomBytes(20).toString('hex');
  await write(socket, `+FULLRESYNC ${randomBytes(20).toString('hex')} 0\r\n$EOF:${mark}\r\n`);
  try {
    for await (const chunk of rdb) {
      if (socket.destroyed) await closed;
      await Promise.all([write(socket, chunk as Buffer), check && write(check, chunk as Buffer)]);
    }
  } finally {
    check?.end();
  }
  await verdict;
  await write(socket, mark);
}

/**
 * Loads the snapshot into the target (`to`, whose preflight passed) as its replica; resolves with
 * the checks, or with `declined` when the target could not be made to sync (REPLICAOF refused, no
 * sync from it within `connectTimeout` ms, or a replica too old for the EOF-marked payload), with
 * the target as it was. The snapshot is checked by redis-check-rdb as it goes out, or first, from
 * a private scratch file, when the target would load it while it arrives (repl-diskless-load).
 */
export async function loadAsReplica(
  ctx: RedisContext,
  to: RespClient,
  reconnect: () => Promise<RespClient>,
  settings: { masterauth: string; diskless: boolean },
  source: RestoreSource,
  connectTimeout = 5000,
): Promise<Check[] | { declined: string }> {
  const scratch = settings.diskless ? privateScratch(ctx.home, 'redis-restore-') : undefined;
  try {
    return await syncTarget(ctx, to, reconnect, settings, source, scratch, connectTimeout);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** loadAsReplica, with `scratch` a private folder for the RDB when the target loads it as it arrives (diskless). */
async function syncTarget(
  ctx: RedisContext,
  to: RespClient,
  reconnect: () => Promise<RespClient>,
  settings: { masterauth: string; diskless: boolean },
  source: RestoreSource,
  scratch: string | undefined,
  connectTimeout: number,
): Promise<Check[] | { declined: string }> {
  let open = (): Readable => source.open();
  let checked: Promise<{ keys?: number }> | undefined;
  if (scratch) {
    const rdb = join(scratch, 'dump.rdb');
    await pipeline(source.open(), createWriteStream(rdb, { mode: 0o600 }));
    checked = Promise.resolve(await checkRdb(ctx, rdb, 'the artifact'));
    open = () => createReadStream(rdb);
  }
  const master = new SnapshotMaster();
  const host = to.localAddress ?? '127.0.0.1';
  const undo: Command[] = [];
  const attempt = async (): Promise<{ keys?: number; held: { keys: number }[] } | { declined: string }> => {
    const port = await master.listen(host);
    // Empty still (the snapshot may have taken a while to check), and the token in place,
    // before REPLICAOF: a full sync replaces all the target holds.
    const [keyspace, auth] = await to.call([
      ['INFO', 'keyspace'],
      ['CONFIG', 'SET', 'masterauth', master.token],
    ]);
    if (!(auth instanceof Error)) undo.unshift(['CONFIG', 'SET', 'masterauth', settings.masterauth]);
    if (auth instanceof Error) return { declined: `the target refused CONFIG SET masterauth (${auth.message})` };
    if (holdsKeys(keyspace)) return { declined: 'the target holds keys' };
    const [replicaof] = await to.call([['REPLICAOF', host, port]]);
    if (replicaof instanceof Error) return { declined: `the target refused REPLICAOF (${replicaof.message})` };
    undo.unshift(['REPLICAOF', 'NO', 'ONE']);
    const link = await Promise.race([master.synced, sleep(connectTimeout, undefined, { ref: false })]);
    if (!link) return { declined: `the target did not connect back to batt at ${host}:${port} within ${connectTimeout / 1000} s` };
    if (!link.eof) return { declined: 'the target is a Redis too old to read a snapshot marked by its end (capa eof)' };
    const check = checked ? undefined : new PassThrough();
    checked ??= checkRdb(ctx, check!, 'the artifact');
    checked.catch(() => {});
    await sendSnapshot(link.socket, open(), check, checked);
    const { keys } = await checked;
    // Linked means loaded: the replica reports master_link_status:up only after the load.
    for (;;) {
      const [info] = await to.call([['INFO', 'replication']]);
      if (infoField(text(info), 'master_link_status') === 'up') break;
      if (ctx.signal.aborted) throw new BattError('INTERRUPTED', 'the restore was interrupted while the target loaded the snapshot');
      if (master.retries > 0 || link.socket.destroyed) {
        throw new BattError('TOOL_FAILED', 'the target redis-server did not load the snapshot: it dropped the replication link', {
          hint: "see the target server's log (an RDB version newer than the server, or memory)",
        });
      }
      await sleep(20);
    }
    // Still a replica, so no key expires while they are counted.
    const [after] = await to.call([['INFO', 'keyspace']]);
    return { keys, held: Object.values(parseKeyspace(text(after))) };
  };
  let outcome: Awaited<ReturnType<typeof attempt>> | undefined;
  let failure: unknown;
  try {
    outcome = await attempt();
  } catch (error) {
    failure = error;
  }
  master.close();
  const stuck = await putBack(to, reconnect, undo);
  if (stuck) {
    throw new BattError('TOOL_FAILED', `${failure instanceof Error ? `${failure.message}; then ` : ''}the target could not be made a master again: ${stuck}`, {
      hint: 'on the target: redis-cli REPLICAOF NO ONE, and CONFIG SET masterauth back to its own',
    });
  }
  if (failure || !outcome) throw failure;
  if ('declined' in outcome) return outcome;
  const { keys, held } = outcome;
  const total = held.reduce((sum, db) => sum + db.keys, 0);
  return [
    { name: 'redis-check-rdb', ok: true, detail: 'the snapshot checked whole before the target loaded it' },
    { name: 'load', ok: true, detail: 'the target loaded the snapshot itself, as a replica of batt (full sync), and is a master again' },
    keys === undefined
      ? { name: 'keys against the snapshot', ok: true, detail: `${counted(total, 'key')} (redis-check-rdb gave no count)` }
      : {
          name: 'keys against the snapshot',
          ok: total === keys,
          detail:
            total === keys
              ? `${counted(total, 'key')} in ${counted(held.length, 'database')}, as many as the snapshot holds`
              : `the target holds ${total} keys, the snapshot ${keys}`,
        },
  ];
}

/**
 * Sends the commands that undo the restore's changes to the target (REPLICAOF NO ONE, its own
 * masterauth), one by one: again while the target answers LOADING (it refuses REPLICAOF while it
 * loads), and on a new connection when this one fails. Undefined when all went through; else why not.
 */
async function putBack(to: RespClient, reconnect: () => Promise<RespClient>, undo: Command[]): Promise<string | undefined> {
  let client = to;
  const opened: RespClient[] = [];
  let failures = 0;
  try {
    while (undo.length > 0) {
      let reply: Reply;
      try {
        [reply] = await client.call([undo[0]]);
      } catch (error) {
        if (++failures > 5) return (error as Error).message;
        await sleep(200);
        client = await reconnect().then(
          (c) => (opened.push(c), c),
          () => client,
        );
        continue;
      }
      if (reply instanceof Error) {
        if (!/^LOADING/.test(reply.message)) return `${String(undo[0][0])}: ${reply.message}`;
        await sleep(100);
        continue;
      }
      undo.shift();
    }
    return undefined;
  } finally {
    for (const c of opened) c.close();
  }
}
