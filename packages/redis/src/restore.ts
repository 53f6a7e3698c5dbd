/**
 * The restore side: into an empty target, the target loads the snapshot itself as batt's replica
 * (replica.ts); otherwise a scratch server is loaded from the snapshot and its keys copied into
 * the target. planRestore, verify and the restore drill.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BattError, assertChecks, compareCounts, counted, privateScratch } from '@batt/core/kit';
import type { Check, RestoreOptions, RestorePlan, RestoreSource } from '@batt/core/kit';
import { parseKeyspace, type Connection } from './args.js';
import { firstError, RespClient, type Command, type Reply } from './resp.js';
import { loadAsReplica, replicaPreflight } from './replica.js';
import { loadScratch } from './scratch.js';
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

/** Keys per round trip of the copy. */
const BATCH = 1000;
/** RESTORE payloads sent and not yet answered, at most: a database of large values does not pile up in memory. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * Copies the keys of database `db`, TTLs included, from the scratch server into the target: DUMP
 * and PTTL pipelined on the scratch server (the next batch asked for while this one is restored),
 * RESTORE pipelined into the target with up to five batches (and 64 MiB) in flight. KEYS, not SCAN: the scratch
 * server is batt's own, so blocking it hurts no one, and SCAN may return a key twice, which
 * RESTORE without REPLACE would refuse the second time.
 */
async function copyKeys(from: RespClient, to: RespClient, db: string, replace: boolean): Promise<void> {
  const failed = (what: string, message: string): BattError =>
    new BattError('TOOL_FAILED', `restoring keys of database ${db} failed: ${what}: ${message}`, {
      hint: /BUSYKEY/.test(message) ? 'restore into an empty database, or pass --force to replace keys' : undefined,
    });
  const selected = [
    ...(await from.call([
      ['SELECT', db],
      ['KEYS', '*'],
    ])),
    ...(await to.call([['SELECT', db]])),
  ];
  const error = firstError(selected);
  if (error) throw explain(failed('SELECT', error));
  const keys = selected[1] as Buffer[];
  const [PTTL, DUMP, RESTORE, REPLACE] = ['PTTL', 'DUMP', 'RESTORE', 'REPLACE'].map((word) => Buffer.from(word));
  const fetch = (i: number): Promise<Reply[]> => from.call(keys.slice(i, i + BATCH).flatMap((k) => [[PTTL, k] as const, [DUMP, k] as const]));
  const inFlight: { sent: Promise<Reply[]>; bytes: number }[] = [];
  let bytesInFlight = 0;
  const settleOldest = async (): Promise<void> => {
    const oldest = inFlight.shift()!;
    bytesInFlight -= oldest.bytes;
    const message = firstError(await oldest.sent);
    if (message) throw explain(failed('RESTORE', message));
  };
  let next = keys.length > 0 ? fetch(0) : undefined;
  for (let i = 0; next; i += BATCH) {
    const replies = await next;
    next = i + BATCH < keys.length ? fetch(i + BATCH) : undefined;
    next?.catch(() => {});
    const restores: Command[] = [];
    let bytes = 0;
    for (let j = 0; j < replies.length; j += 2) {
      const [ttl, payload] = [replies[j], replies[j + 1]];
      const dumpError = firstError([ttl, payload]);
      if (dumpError) throw failed('DUMP', dumpError);
      // A key whose TTL ran out since KEYS is gone: nothing to copy.
      if (!Buffer.isBuffer(payload)) continue;
      const restore = [RESTORE, keys[i + j / 2], typeof ttl === 'number' && ttl > 0 ? ttl : 0, payload];
      restores.push(replace ? [...restore, REPLACE] : restore);
      bytes += payload.length;
    }
    const sent = to.call(restores);
    sent.catch(() => {});
    inFlight.push({ sent, bytes });
    bytesInFlight += bytes;
    while (inFlight.length > 4 || (inFlight.length > 0 && bytesInFlight > MAX_IN_FLIGHT_BYTES)) await settleOldest();
  }
  while (inFlight.length > 0) await settleOldest();
}

/**
 * The whole snapshot into an empty target, loaded by the target itself as batt's replica; the
 * reason it cannot be, with the target untouched, when it is not empty, is a replica, refuses
 * CONFIG or REPLICAOF, or cannot connect back to batt.
 */
async function restoreAsReplica(ctx: RedisContext, target: Connection, source: RestoreSource): Promise<Check[] | { declined: string }> {
  const to = await RespClient.open(target).catch((error: unknown) => {
    throw explain(error);
  });
  try {
    const settings = await replicaPreflight(to);
    return 'declined' in settings ? settings : await loadAsReplica(ctx, to, () => RespClient.open(target), settings, source);
  } finally {
    to.close();
  }
}

/**
 * Restores the RDB into `into` (host:port; default the server it was backed up from). An empty
 * target loads it itself, as batt's replica; otherwise, and for the databases given with
 * --redis-db, a private scratch server loads it and its keys, TTLs included, are copied into
 * the target. A target database holding keys is refused unless forced.
 */
export async function restore(ctx: RedisContext, _target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const target = connectionOf(ctx.config, options.into);
  const only = restoreDbs(ctx);
  if (only.length === 0) {
    const loaded = await restoreAsReplica(ctx, target, source);
    if (!('declined' in loaded)) return assertChecks('the restored keys do not match the snapshot', loaded);
    ctx.log.info(`copying the keys one by one: ${loaded.declined}`);
  }
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
    const from = await RespClient.open(scratch.conn);
    const to = await RespClient.open(target).catch((error: unknown) => {
      from.close();
      throw explain(error);
    });
    try {
      for (const db of dbs) await copyKeys(from, to, db, options.force);
    } finally {
      from.close();
      to.close();
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
