// Every database service that can run here against a live server passes the same suite
// (test/lib/conformance.ts), one file per service so they run side by side.
// (MongoDB cannot: no mongod can be installed on these machines; see mongodb.test.ts.)
import { mysqlPlugin } from '@batt/mysql';
import { conformance } from '../lib/conformance.js';
import { startMariaDb, type MariaDb } from '../lib/servers.js';

let my: MariaDb;
let env: Record<string, string>;
conformance({
  service: 'mysql',
  plugin: mysqlPlugin,
  async setUp() {
    my = await startMariaDb();
    env = await my.user('c', 'c-pw');
    await my.sql(`CREATE DATABASE app; USE app;
      CREATE TABLE a (id INT PRIMARY KEY, s VARCHAR(50), b BLOB, d DATETIME(3), j JSON);
      CREATE TABLE b (id INT AUTO_INCREMENT PRIMARY KEY, v DOUBLE) ENGINE=InnoDB;
      INSERT INTO a SELECT seq, CONCAT('row ', seq, ' ü\\'"'), UNHEX(HEX(seq * 7919)), '2021-02-03 04:05:06.789', JSON_OBJECT('n', seq) FROM seq_1_to_2000;
      INSERT INTO b (v) SELECT seq / 7 FROM seq_1_to_3000;`);
  },
  tearDown: async () => my?.stop(),
  env: () => env,
  backupArgs: ['--mysql-db', 'app'],
  target: 'app',
  restoreTo: async () => 'app_copy',
  fingerprintOriginal: () => my.sql('CHECKSUM TABLE a, b', 'app').then((s) => s.replace(/app\./g, '')),
  fingerprintRestored: () => my.sql('CHECKSUM TABLE a, b', 'app_copy').then((s) => s.replace(/app_copy\./g, '')),
  expectedFacts: { rowCounts: { a: 2000, b: 3000 } },
});
