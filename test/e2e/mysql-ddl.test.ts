/**
 * DDL during a dump. `--single-transaction` keeps the rows of one moment, not the definitions:
 * DDL on a table mysqldump has not reached yet either makes it fail (error 1412 or 1146) or, for
 * an instant ALTER, leaves a dump that exits 0 with the table's new definition. Each kind runs
 * here from a second connection while batt's dump reads a big table that sorts first, against
 * a small one that sorts after it; batt must fail the item naming the table, and keep nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { json, sandboxFor } from '../lib/batt.js';
import { forSuite, startMariaDb } from '../lib/servers.js';

describe('mysql: DDL while a dump runs', () => {
  const db = forSuite(() => startMariaDb({ user: ['batt', 'ddl-pw'] }));
  const box = sandboxFor('all');
  before(async () => {
    // `a_big` is dumped first and takes seconds; the DDL goes to `z_t`, dumped after it.
    await db.sql(`CREATE DATABASE ddl; USE ddl;
      CREATE TABLE a_big (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;
      INSERT INTO a_big SELECT seq, REPEAT(MD5(seq), 4) FROM seq_1_to_600000;`);
  });

  /** A fresh `z_t`; then a backup of `ddl` with `statement` run once mysqldump reads `a_big`. */
  async function backupWhile(name: string, statement: string): Promise<any> {
    await db.sql(
      `DROP TABLE IF EXISTS z_t, z_t2;
      CREATE TABLE z_t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(50)) ENGINE=InnoDB;
      INSERT INTO z_t (v) SELECT CONCAT('r', seq) FROM seq_1_to_2000;`,
      'ddl',
    );
    const path = join(box.out, name);
    const run = box.batt(['--mysql-db', 'ddl', '--path', path, '--json'], { env: db.env });
    let ended = false;
    void run.finally(() => (ended = true));
    const reading = "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT %FROM `a_big`%' AND info NOT LIKE '%processlist%'";
    let seen = '';
    while ((await db.sql(reading)) === '0') {
      if (!ended) seen += `${await db.sql('SELECT command, state, info FROM information_schema.processlist')}\n`;
      assert.ok(!ended, `the backup ended before mysqldump was seen reading a_big:\n${seen.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await db.sql(statement, 'ddl');
    // The dump was still on a_big when the DDL ended: z_t was not dumped yet.
    assert.equal(await db.sql(reading), '1', 'the DDL ended while a_big was being dumped');
    const r = await run;
    const report = json(r);
    const item = report.items[0];
    return { r, report, item, files: readdirSync(join(path, 'mysql')) };
  }

  async function failsNaming(name: string, statement: string, table: string): Promise<void> {
    const { r, item, files } = await backupWhile(name, statement);
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    assert.equal(item.status, 'failed');
    assert.match(item.error, new RegExp(`DDL ran on table .*\`${table}\`.* of "ddl" while it was dumped`));
    assert.match(item.error, /re-run the backup.*outside the backup window/);
    assert.deepEqual(
      files.filter((f: string) => f.includes('.sql') || f.includes('batt-tmp')),
      [],
      'no dump is left, finished or temporary',
    );
  }

  it('an instant ALTER (ADD COLUMN) on a table not yet dumped fails the item, naming it', () =>
    failsNaming('instant', 'ALTER TABLE z_t ADD COLUMN extra INT DEFAULT 7, ALGORITHM=INSTANT', 'z_t'));

  it('an in-place ALTER (ADD INDEX) on a table not yet dumped fails the item, naming it', () =>
    failsNaming('inplace', 'ALTER TABLE z_t ADD INDEX iv (v), ALGORITHM=INPLACE', 'z_t'));

  it('a copying ALTER (ALGORITHM=COPY) on a table not yet dumped fails the item, naming it', () =>
    failsNaming('copy', 'ALTER TABLE z_t MODIFY v VARCHAR(60), ALGORITHM=COPY', 'z_t'));

  it('RENAME TABLE of a table not yet dumped fails the item, naming it', () => failsNaming('rename', 'RENAME TABLE z_t TO z_t2', 'z_t'));

  it('TRUNCATE TABLE of a table not yet dumped fails the item, naming it', () => failsNaming('truncate', 'TRUNCATE TABLE z_t', 'z_t'));

  it('DROP TABLE of a table not yet dumped fails the item, naming it', () => failsNaming('drop', 'DROP TABLE z_t', 'z_t'));

  it('INSERT and UPDATE during the dump leave it ok, with the rows of its snapshot', async () => {
    const { r, item, files } = await backupWhile(
      'dml',
      "INSERT INTO z_t (v) SELECT 'new' FROM seq_1_to_100; UPDATE z_t SET v = 'changed' WHERE id <= 50; DELETE FROM z_t WHERE id > 1990",
    );
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.equal(item.status, 'ok');
    assert.ok(files.some((f: string) => f.endsWith('.sql.zst')));
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.deepEqual(shown.items[0].facts.rowCounts, { a_big: 600000, z_t: 2000 });
  });
});
