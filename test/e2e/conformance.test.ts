// Every database service that can run here against a live server passes the same suite.
// (MongoDB cannot: no mongod can be installed on these machines; see mongodb.test.ts.)
import { mysqlPlugin } from '@batt/mysql';
import { postgresqlPlugin } from '@batt/postgresql';
import { redisPlugin } from '@batt/redis';
import { execa } from 'execa';
import { conformance } from '../lib/conformance.js';
import { startMariaDb, startPostgres, startRedis, type MariaDb, type Postgres, type Redis } from '../lib/servers.js';

let my: MariaDb;
conformance({
  service: 'mysql',
  plugin: mysqlPlugin,
  async setUp() {
    my = await startMariaDb();
    await my.sql("CREATE USER 'c'@'127.0.0.1' IDENTIFIED BY 'c-pw'; GRANT ALL ON *.* TO 'c'@'127.0.0.1'");
    await my.sql(`CREATE DATABASE app; USE app;
      CREATE TABLE a (id INT PRIMARY KEY, s VARCHAR(50), b BLOB, d DATETIME(3), j JSON);
      CREATE TABLE b (id INT AUTO_INCREMENT PRIMARY KEY, v DOUBLE) ENGINE=InnoDB;
      INSERT INTO a SELECT seq, CONCAT('row ', seq, ' ü\\'"'), UNHEX(HEX(seq * 7919)), '2021-02-03 04:05:06.789', JSON_OBJECT('n', seq) FROM seq_1_to_2000;
      INSERT INTO b (v) SELECT seq / 7 FROM seq_1_to_3000;`);
  },
  tearDown: async () => my?.stop(),
  env: () => ({ BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String(my.port), BATT_MYSQL_USER: 'c', BATT_MYSQL_PASSWORD: 'c-pw' }),
  backupArgs: ['--mysql-db', 'app'],
  target: 'app',
  restoreTo: async () => 'app_copy',
  fingerprintOriginal: () => my.sql('CHECKSUM TABLE a, b', 'app').then((s) => s.replace(/app\./g, '')),
  fingerprintRestored: () => my.sql('CHECKSUM TABLE a, b', 'app_copy').then((s) => s.replace(/app_copy\./g, '')),
  expectedFacts: { rowCounts: { a: 2000, b: 3000 } },
});

let pg: Postgres;
const pgPicture = (db: string): Promise<string> => pg.sql(`SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM t`, db);
conformance({
  service: 'postgresql',
  plugin: postgresqlPlugin,
  async setUp() {
    pg = await startPostgres();
    await pg.sql('CREATE DATABASE app');
    await pg.sql(`CREATE TABLE t (id int PRIMARY KEY, s text, b bytea, j jsonb, ts timestamptz, n numeric);
      INSERT INTO t SELECT i, 'row ' || i || ' ü''"', decode(md5(i::text), 'hex'), jsonb_build_object('n', i), now(), i / 7.0 FROM generate_series(1, 3000) i;`, 'app');
  },
  tearDown: async () => pg?.stop(),
  env: () => ({ BATT_POSTGRESQL_HOST: '127.0.0.1', BATT_POSTGRESQL_PORT: String(pg.port), BATT_POSTGRESQL_USER: 'postgres', BATT_POSTGRESQL_PASSWORD: pg.password }),
  backupArgs: ['--postgresql-db', 'app'],
  target: 'app',
  restoreTo: async () => 'app_copy',
  fingerprintOriginal: () => pgPicture('app'),
  fingerprintRestored: () => pgPicture('app_copy'),
  expectedFacts: { rowCounts: { 'public.t': 3000 } },
});

let src: Redis;
let dst: Redis | undefined;
const redisPicture = async (r: Redis): Promise<string> => {
  // One redis-cli per database, fed TYPE/DUMP/TTL for every key on stdin.
  const lines: string[] = [];
  for (const db of ['0', '5']) {
    const keys = (await r.cli('-n', db, '--scan')).split('\n').filter(Boolean).sort();
    const input = keys.map((k) => `TYPE "${k}"\nDUMP "${k}"\nTTL "${k}"`).join('\n');
    const out = (await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(r.port), '-n', db, '--no-raw'], { input, env: r.password ? { REDISCLI_AUTH: r.password } : {} })).stdout.split('\n');
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
    for (let i = 0; i < 300; i++) await src.cli('SET', `k:${i}`, `v ${i} ü`);
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
