// Every database service that can run here against a live server passes the same suite
// (test/lib/conformance.ts), one file per service so they run side by side.
// (MongoDB cannot: no mongod can be installed on these machines; see mongodb.test.ts.)
import { redisPlugin } from '@batt/redis';
import { execa } from 'execa';
import { conformance } from '../lib/conformance.js';
import { startRedis, type Redis } from '../lib/servers.js';

let src: Redis;
let dst: Redis | undefined;
const redisPicture = async (r: Redis): Promise<string> => {
  // One redis-cli per database, fed TYPE/DUMP/TTL for every key on stdin.
  const lines: string[] = [];
  for (const db of ['0', '5']) {
    const keys = (await r.cli('-n', db, '--scan')).split('\n').filter(Boolean).sort();
    const input = keys.map((k) => `TYPE "${k}"\nDUMP "${k}"\nTTL "${k}"`).join('\n');
    const out = (
      await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(r.port), '-n', db, '--no-raw'], { input, env: r.password ? { REDISCLI_AUTH: r.password } : {} })
    ).stdout.split('\n');
    keys.forEach((k, i) => {
      const ttl = Number(out[i * 3 + 2].replace(/^\(integer\) /, ''));
      lines.push(`${db} ${k} ${out[i * 3]} ${out[i * 3 + 1]} ${ttl < 0 ? ttl : ttl > 3000}`);
    });
  }
  return lines.join('\n');
};
conformance({
  service: 'redis',
  plugin: redisPlugin,
  async setUp() {
    src = await startRedis({ password: 'c pw' });
    // One client call for the 300 keys (redis-cli reads commands from stdin).
    await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(src.port)], {
      input: Array.from({ length: 300 }, (_, i) => `SET "k:${i}" "v ${i} ü"`).join('\n'),
      env: { REDISCLI_AUTH: 'c pw' },
    });
    await src.cli('HSET', 'h', 'a', '1', 'b', '2');
    await src.cli('SET', 'ttl', 'x', 'EX', '3600');
    await src.cli('-n', '5', 'ZADD', 'z', '1', 'a', '2', 'b');
  },
  async tearDown() {
    await src?.stop();
    await dst?.stop();
  },
  env: () => ({ BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(src.port), BATT_REDIS_PASSWORD: 'c pw' }),
  backupArgs: ['redis'],
  get target() {
    return `127.0.0.1:${src.port}`;
  },
  restoreEnv: () => ({ BATT_REDIS_HOST: '127.0.0.1' }),
  async restoreTo() {
    dst ??= await startRedis();
    return `127.0.0.1:${dst.port}`;
  },
  fingerprintOriginal: () => redisPicture(src),
  fingerprintRestored: () => redisPicture(dst!),
  expectedFacts: { keyspace: { 0: { keys: 302, expires: 1 }, 5: { keys: 1, expires: 0 } } },
});
