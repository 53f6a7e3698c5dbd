// Every database service that can run here against a live server passes the same suite
// (test/lib/conformance.ts), one file per service so they run side by side.
// (MongoDB cannot: no mongod can be installed on these machines; see mongodb.test.ts.)
import { postgresqlPlugin } from '@batt/postgresql';
import { conformance } from '../lib/conformance.js';
import { startPostgres, type Postgres } from '../lib/servers.js';

let pg: Postgres;
const pgPicture = (db: string): Promise<string> => pg.sql(`SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM t`, db);
conformance({
  service: 'postgresql',
  plugin: postgresqlPlugin,
  async setUp() {
    pg = await startPostgres();
    await pg.sql('CREATE DATABASE app');
    await pg.sql(
      `CREATE TABLE t (id int PRIMARY KEY, s text, b bytea, j jsonb, ts timestamptz, n numeric);
      INSERT INTO t SELECT i, 'row ' || i || ' ü''"', decode(md5(i::text), 'hex'), jsonb_build_object('n', i), now(), i / 7.0 FROM generate_series(1, 3000) i;`,
      'app',
    );
  },
  tearDown: async () => pg?.stop(),
  env: () => pg.env,
  backupArgs: ['--postgresql-db', 'app'],
  target: 'app',
  restoreTo: async () => 'app_copy',
  fingerprintOriginal: () => pgPicture('app'),
  fingerprintRestored: () => pgPicture('app_copy'),
  expectedFacts: { rowCounts: { 'public.t': 3000 } },
});
