import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Check } from '@batt/core';
import { redisPlugin } from '@batt/redis';
import { restoreArtifact } from '../lib/conformance.js';
import { json, realTool, recordCalls, sandboxFor, standIns } from '../lib/batt.js';
import { startRedis, type Redis } from '../lib/servers.js';

async function restore(file: string, to: Redis, config: Record<string, unknown>, force = false): Promise<Check[]> {
  return await restoreArtifact(redisPlugin, config, file, 'x', `127.0.0.1:${to.port}`, force);
}

/** How a restore reached the target, from its checks: loaded by the target as batt's replica, or copied key by key from a scratch server. */
const path = (checks: Check[]): string =>
  checks.some((c) => c.name === 'load' && /as a replica of batt/.test(c.detail ?? '')) ? 'replica' : checks.some((c) => /scratch server/.test(c.detail ?? '')) ? 'keys' : 'unknown';

/** The target's role, masterauth and key count: what a restore must leave as it found it but for the keys. */
async function state(r: Redis): Promise<string> {
  const role = /^role:(\w+)/m.exec(await r.cli('INFO', 'replication'))?.[1];
  return `role ${role}, masterauth ${JSON.stringify((await r.cli('CONFIG', 'GET', 'masterauth')).split('\n')[1] ?? '')}`;
}

/** Every key of a db with its type, value (as DUMP would differ by version, compare values) and TTL bucket. */
async function snapshot(r: Redis, db: string): Promise<string[]> {
  const keys = (await r.cli('-n', db, '--scan')).split('\n').filter(Boolean).sort();
  const out = [];
  for (const k of keys) {
    const type = await r.cli('-n', db, 'TYPE', k);
    const value =
      type === 'string'
        ? await r.cli('-n', db, 'GET', k)
        : type === 'hash'
          ? await r.cli('-n', db, 'HGETALL', k)
          : type === 'list'
            ? await r.cli('-n', db, 'LRANGE', k, '0', '-1')
            : type === 'set'
              ? (await r.cli('-n', db, 'SMEMBERS', k)).split('\n').sort().join('\n')
              : await r.cli('-n', db, 'ZRANGE', k, '0', '-1', 'WITHSCORES');
    const ttl = Number(await r.cli('-n', db, 'TTL', k));
    out.push(`${db} ${k} ${type} ${JSON.stringify(value)} ${ttl < 0 ? ttl : ttl > 3000 ? 'ttl~3600' : `ttl ${ttl}`}`);
  }
  return out;
}

describe('redis service against a live Redis', () => {
  let source: Redis;
  const box = sandboxFor('all');
  let env: Record<string, string>;
  before(async () => {
    source = await startRedis({ password: 'r3dis pw' });
    env = { BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(source.port), BATT_REDIS_PASSWORD: 'r3dis pw' };
    await source.cli('SET', 'greeting', 'héllo "world"');
    await source.cli('SET', 'session:1', 'abc', 'EX', '3600');
    await source.cli('HSET', 'user:1', 'name', 'Ada', 'lang', 'en');
    await source.cli('RPUSH', 'queue', 'a', 'b', 'c');
    await source.cli('SADD', 'tags', 'x', 'y');
    await source.cli('ZADD', 'scores', '1', 'one', '2.5', 'two');
    await source.cli('-n', '3', 'SET', 'other-db', 'three');
    await source.cli('-n', '3', 'SET', 'temp', 'v', 'EX', '3600');
  });
  after(() => source?.stop());

  it('backs up a checked RDB with key counts, and restores the same keys, values and TTLs into a fresh server', async () => {
    const r = await box.batt(['redis', '--path', join(box.out, 'r'), '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const item = json(r).items[0];
    assert.equal(item.target, `127.0.0.1:${source.port}`);
    assert.ok(item.file.endsWith('.rdb.zst'));
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.deepEqual(shown.items[0].facts.keyspace, { 0: { keys: 6, expires: 1 }, 3: { keys: 2, expires: 1 } });
    assert.match(shown.items[0].serverVersion, /^\d+\.\d+/);

    const fresh = await startRedis();
    try {
      await restore(item.file, fresh, {});
      assert.deepEqual(await snapshot(fresh, '0'), await snapshot(source, '0'));
      assert.deepEqual(await snapshot(fresh, '3'), await snapshot(source, '3'));
      await assert.rejects(restore(item.file, fresh, {}), /already holds 6 keys/);
    } finally {
      await fresh.stop();
    }
  });

  it('restores only the databases named with --redis-db', async () => {
    const r = json(await box.batt(['redis', '--path', join(box.out, 'only'), '--json'], { env }));
    const fresh = await startRedis({ password: 'target pw' });
    try {
      await restore(r.items[0].file, fresh, { restore_dbs: ['3'], password: 'target pw' });
      assert.deepEqual(await snapshot(fresh, '3'), await snapshot(source, '3'));
      assert.equal(await fresh.cli('DBSIZE'), '0');
    } finally {
      await fresh.stop();
    }
  });

  it('passes the password in REDISCLI_AUTH only: never on a command line or in a log', async () => {
    const calls = await recordCalls(join(box.dir, 'redis-record'), ['redis-cli']);
    const e = { ...env, PATH: calls.path };
    const b = await box.batt(['redis', '--path', join(box.out, 'secret'), '--json'], { env: e });
    assert.equal(b.exitCode, 0, b.stderr);
    const fresh = await startRedis({ password: 'other pw' });
    try {
      const r = await box.batt(['restore', String(json(b).id), 'redis', '--into', `127.0.0.1:${fresh.port}`], { env: { ...e, BATT_REDIS_PASSWORD: 'other pw' } });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      assert.ok(!(r.stdout + r.stderr).includes('other pw'));
    } finally {
      await fresh.stop();
    }
    const lines = calls.log().split('\n');
    assert.ok(
      lines.some((l) => /^ARGV \S+redis-cli .*--rdb/.test(l)),
      'the snapshot was recorded',
    );
    for (const pw of ['r3dis pw', 'other pw']) {
      assert.ok(!lines.some((l) => l.startsWith('ARGV ') && l.includes(pw)), `${pw} is on no command line`);
      assert.ok(!lines.some((l) => l.startsWith('ENV ') && l.includes(pw) && !l.startsWith('ENV REDISCLI_AUTH=')), `${pw} is in no variable but REDISCLI_AUTH`);
    }
    assert.ok(lines.includes('ENV REDISCLI_AUTH=r3dis pw'), 'the backup passed it in REDISCLI_AUTH');
    const logs = readdirSync(join(box.home, 'logs'))
      .map((f) => readFileSync(join(box.home, 'logs', f), 'utf8'))
      .join('');
    assert.ok(!logs.includes('r3dis pw') && !logs.includes('other pw'));
  });

  it('a wrong password fails clearly and writes nothing', async () => {
    const given = 'wr0ng redis pw';
    const r = await box.batt(['redis', '--path', join(box.out, 'bad'), '--json'], { env: { ...env, BATT_REDIS_PASSWORD: given } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /authentication failed|WRONGPASS|invalid password/i);
    // The password this run was given appears nowhere: output, log files, catalog.
    const logs = readdirSync(join(box.home, 'logs'))
      .map((f) => readFileSync(join(box.home, 'logs', f), 'utf8'))
      .join('');
    const catalog = (await execa('sqlite3', [join(box.home, 'catalog.db'), '.dump'])).stdout;
    assert.match(logs, /redis/, 'the log file holds the run');
    for (const text of [r.stdout + r.stderr, logs, catalog]) assert.ok(!text.includes(given));
  });

  /** Awkward keys backed up and restored into a fresh server started with `args`, by the path `expected`. */
  const byteForByte = (args: string[], expected: 'replica' | 'keys') => async () => {
    const odd = await startRedis();
    const fresh = await startRedis({ args: [...args, '--masterauth', 'its own'] });
    // A name with a newline, one with quotes and spaces, one with bytes that are not UTF-8, and
    // 2,500 more keys (the copy sends 1,000 a round trip) in db 5, one in ten with a TTL, and a
    // value of 5 MB (its DUMP reply comes in many pieces).
    const names = `{'line\\nbreak', 'q "u" o\\\\te s', string.char(255, 0, 13, 10, 200)}`;
    const lua = (body: string): string => `local names = ${names}; ${body}`;
    const count = lua(`local n = 0; for _, k in ipairs(names) do n = n + redis.call('EXISTS', k) end; return n`);
    try {
      await odd.cli('EVAL', lua(`for i, k in ipairs(names) do redis.call('SET', k, string.char(i, 0, 255)) end; return 0`), '0');
      await odd.cli('-n', '5', 'EVAL', `redis.call('SET', 'big', string.rep('0123456789', 500000)) return 0`, '0');
      await odd.cli('-n', '5', 'EVAL', `for i = 1, 2500 do redis.call('SET', 'k' .. i, i) if i % 10 == 0 then redis.call('EXPIRE', 'k' .. i, 3600) end end return 0`, '0');
      assert.equal(await odd.cli('EVAL', count, '0'), '3', 'the awkward keys are there to back up');
      const b = json(await box.batt(['redis', '--path', join(box.out, 'odd'), '--json'], { env: { BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(odd.port) } }));
      const checks = await restore(b.items[0].file, fresh, {});
      assert.equal(path(checks), expected, JSON.stringify(checks));
      assert.equal(await state(fresh), 'role master, masterauth "its own"');
      assert.equal(await fresh.cli('EVAL', count, '0'), '3');
      const same = lua(`for i, k in ipairs(names) do if redis.call('GET', k) ~= string.char(i, 0, 255) then return k end end; return 'same'`);
      assert.equal(await fresh.cli('EVAL', same, '0'), 'same');
      assert.equal(await fresh.cli('-n', '5', 'DBSIZE'), '2501');
      const digest = `return redis.sha1hex(redis.call('GET', 'big'))`;
      assert.equal(await fresh.cli('-n', '5', 'EVAL', digest, '0'), await odd.cli('-n', '5', 'EVAL', digest, '0'));
      assert.equal(await fresh.cli('-n', '5', 'GET', 'k2499'), '2499');
      const expiring = `local n = 0; for i = 1, 2500 do if redis.call('TTL', 'k' .. i) > 3000 then n = n + 1 end end return n`;
      assert.equal(await fresh.cli('-n', '5', 'EVAL', expiring, '0'), '250');
    } finally {
      await Promise.all([odd.stop(), fresh.stop()]);
    }
  };
  // The target's load reports progress every 1 kB: it sends batt a bare newline (a replica's
  // keepalive while it loads), which batt must let pass.
  it(
    "restores keys byte for byte, whatever their names hold, with their TTLs, loaded by the empty target itself as batt's replica",
    byteForByte(['--loading-process-events-interval-bytes', '1024'], 'replica'),
  );
  it(
    'restores keys byte for byte, whatever their names hold, over several batches, with their TTLs, when the target refuses REPLICAOF',
    byteForByte(['--rename-command', 'REPLICAOF', ''], 'keys'),
  );

  it('a restore interrupted while the target loads the snapshot leaves it a master again, with its own masterauth', async () => {
    const big = await startRedis({ args: ['--enable-debug-command', 'yes'] });
    const fresh = await startRedis({ args: ['--masterauth', 'its own'] });
    try {
      await big.cli('DEBUG', 'POPULATE', '400000', 'key', '100');
      const b = json(await box.batt(['redis', '--path', join(box.out, 'big'), '--json'], { env: { BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(big.port) } }));
      const stop = new AbortController();
      let settled = false;
      // Interrupted once the target loads: it then refuses REPLICAOF NO ONE (LOADING) until done.
      const watch = (async () => {
        while (!settled && !stop.signal.aborted) {
          if (/^loading:1/m.test(await fresh.cli('INFO', 'persistence'))) stop.abort();
        }
      })();
      const restored = restoreArtifact(redisPlugin, {}, b.items[0].file, 'x', `127.0.0.1:${fresh.port}`, false, {}, stop.signal).finally(() => (settled = true));
      await assert.rejects(restored, /interrupted while the target loaded/);
      await watch;
      assert.equal(await state(fresh), 'role master, masterauth "its own"');
      assert.equal(await fresh.cli('DBSIZE'), '400000', 'what it loaded stays');
    } finally {
      await Promise.all([big.stop(), fresh.stop()]);
    }
  });

  it('a damaged snapshot never reaches an empty target: the check stops it before its last byte, and the target stays up, empty and a master', async () => {
    const b = json(await box.batt(['redis', '--path', join(box.out, 'damaged'), '--json'], { env }));
    // The RDB with one byte of a value changed: whole in its structure, wrong in its checksum,
    // which a replica finds only at the end of its load, and then exits.
    const rdb = (await execa('zstd', ['-dc', b.items[0].file], { encoding: 'buffer' })).stdout as Uint8Array;
    const at = Buffer.from(rdb).indexOf('héllo');
    assert.ok(at > 0, 'the value is in the RDB');
    rdb[at] ^= 0x01;
    const damaged = join(box.dir, 'damaged.rdb.zst');
    await execa('zstd', ['-q', '-o', damaged], { input: rdb });
    const fresh = await startRedis({ args: ['--masterauth', 'its own'] });
    try {
      await assert.rejects(restore(damaged, fresh, {}), /redis-check-rdb rejected the artifact/);
      assert.ok(Number(/total_net_repl_input_bytes:(\d+)/.exec(await fresh.cli('INFO', 'stats'))?.[1]) > 0, 'the target got the snapshot as a replica, all but its end');
      assert.equal(await fresh.cli('PING'), 'PONG');
      assert.equal(await fresh.cli('DBSIZE'), '0');
      assert.equal(await state(fresh), 'role master, masterauth "its own"');
    } finally {
      await fresh.stop();
    }
  });

  describe('with stand-in tools', () => {
    /** redis-cli replaced by `script`, first on PATH ('' leaves it out). */
    const fakeBin = (name: string, script: string): Record<string, string> => ({
      ...env,
      PATH: standIns(join(box.dir, `redis-bin-${name}`), { 'redis-cli': script }, ['redis-check-rdb', 'zstd', 'setpriv', 'stdbuf']),
    });
    const left = (dest: string): string[] =>
      existsSync(join(dest, 'redis')) ? readdirSync(join(dest, 'redis')).filter((n) => !n.startsWith('SHA256SUMS') && !n.endsWith('.json')) : [];
    // The real redis-cli, except that the snapshot it saves with --rdb FILE is then changed by $FIX.
    const wrapped = (fix: string): string => `#!/bin/sh
rdb=""; prev=""
for a in "$@"; do [ "$prev" = "--rdb" ] && rdb="$a"; prev="$a"; done
${realTool('redis-cli')} "$@" || exit $?
if [ -n "$rdb" ]; then ${fix}; fi
exit 0
`;

    it('a snapshot cut short, from a redis-cli that exits 0, is refused by redis-check-rdb; nothing is left', async () => {
      const dest = join(box.out, 'redis-truncated');
      const r = await box.batt(['redis', '--path', dest, '--json'], { env: fakeBin('trunc', wrapped('truncate -s -40 "$rdb"')) });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /redis-check-rdb rejected the snapshot of .*the RDB is damaged/);
      assert.deepEqual(left(dest), []);
    });

    it('a redis-cli killed while it saves the snapshot is a failure', async () => {
      const dest = join(box.out, 'redis-killed');
      const r = await box.batt(['redis', '--path', dest, '--json'], { env: fakeBin('killed', wrapped('kill -9 $$')) });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /redis-cli was killed by SIGKILL/);
      assert.deepEqual(left(dest), []);
    });

    it('a missing redis-cli says what to install', async () => {
      const r = await box.batt(['redis', '--path', join(box.out, 'redis-missing'), '--json'], { env: fakeBin('missing', '') });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /redis-cli is not installed.*apt-get install redis-tools/);
    });

    it('an unreachable server fails clearly', async () => {
      const r = await box.batt(['redis', '--path', join(box.out, 'redis-unreachable'), '--json'], { env: { ...env, BATT_REDIS_PORT: '1' } });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /redis.*(cannot reach|Could not connect|Connection refused)/i);
    });
  });
});
