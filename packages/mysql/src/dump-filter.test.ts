import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { DumpFilter, type DumpPart } from './dump-filter.js';
import { RowLines, rowsInLine } from './dump-rows.js';

// The shape of a MariaDB 10.11 mysqldump (rows one per line), shortened.
const mariadb = `/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;

--
-- Table structure for table \`t\`
--

DROP TABLE IF EXISTS \`t\`;
CREATE TABLE \`t\` (
  \`id\` int(11) NOT NULL,
  \`s\` text DEFAULT NULL
) ENGINE=InnoDB;

--
-- Dumping data for table \`t\`
--

LOCK TABLES \`t\` WRITE;
/*!40000 ALTER TABLE \`t\` DISABLE KEYS */;
INSERT INTO \`t\` VALUES
(1,'a\\'(b),(c'),
(2,'x\\\\'),
(3,NULL);
/*!40000 ALTER TABLE \`t\` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET sql_mode = '' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER trg AFTER INSERT ON t FOR EACH ROW SET @x = 1 */;;
DELIMITER ;

--
-- Dumping routines for database 'shop'
--
DELIMITER ;;
CREATE PROCEDURE \`p\`()
SELECT 1
;;
DELIMITER ;

--
-- Final view structure for view \`v\`
--

/*!50001 VIEW \`v\` AS select 1 */;

-- Dump completed on 2026-11-22  6:49:34
`;

async function run(text: string, part: DumpPart, chunk = 7): Promise<{ out: string; filter: DumpFilter }> {
  const filter = new DumpFilter(part);
  const pieces: Buffer[] = [];
  const bytes = Buffer.from(text);
  const chunks = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  for await (const c of Readable.from(chunks).pipe(filter)) pieces.push(c as Buffer);
  return { out: Buffer.concat(pieces).toString(), filter };
}

describe('mysqldump filter', () => {
  it('passes everything through in `all`, counting rows and seeing the trailer, whatever the chunking', async () => {
    for (const size of [1, 7, 4096]) {
      const { out, filter } = await run(mariadb, 'all', size);
      assert.equal(out, mariadb);
      assert.deepEqual(filter.rows, { t: 3 });
      assert.equal(filter.trailer, true);
    }
  });

  it('schema: tables, routines and views, no rows and no triggers', async () => {
    const { out } = await run(mariadb, 'schema');
    assert.match(out, /CREATE TABLE `t`/);
    assert.match(out, /CREATE PROCEDURE/);
    assert.match(out, /VIEW `v`/);
    assert.match(out, /SET NAMES utf8mb4/);
    assert.doesNotMatch(out, /INSERT|LOCK TABLES|TRIGGER/);
  });

  it('data: rows, then the trigger, and no DDL', async () => {
    const { out } = await run(mariadb, 'data');
    assert.match(out, /INSERT INTO `t` VALUES\n\(1,'a\\'\(b\),\(c'\),\n\(2/);
    assert.ok(out.indexOf('TRIGGER') > out.indexOf('UNLOCK TABLES'));
    assert.doesNotMatch(out, /CREATE TABLE|DROP TABLE|PROCEDURE|VIEW/);
  });

  it('objects: views, routines and triggers only', async () => {
    const { out } = await run(mariadb, 'objects');
    assert.match(out, /TRIGGER/);
    assert.match(out, /PROCEDURE/);
    assert.match(out, /VIEW `v`/);
    assert.doesNotMatch(out, /INSERT INTO|CREATE TABLE/);
  });

  it('counts MySQL-style rows on one line, ignoring parentheses and quotes inside strings', async () => {
    assert.equal(rowsInLine(Buffer.from("(1,'a),(b'),(2,'it\\'s (x)'),(3,\"q),(\")"), 0), 3);
    const mysql = "-- Dumping data for table `t`\nINSERT INTO `t` VALUES (1,'x'),(2,'y,(z)');\nINSERT INTO `t` VALUES (3,'');\n";
    const { filter } = await run(mysql, 'all');
    assert.deepEqual(filter.rows, { t: 3 });
    assert.equal(filter.trailer, false, 'no trailer: truncated');
  });

  it('counts every row of a long one-row-per-line dump, however the chunks fall', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `(${i},'row ${i} \\'(x),(y)\\' ',NULL)`);
    // Statements of 1000 rows, some lines ending in blanks or \r before the newline.
    const statements = [];
    for (let i = 0; i < rows.length; i += 1000) {
      statements.push(
        `INSERT INTO \`big\` VALUES\n${rows
          .slice(i, i + 1000)
          .map((r, j) => r + (j === 999 ? ';' : ',') + (j % 7 === 0 || j === 999 ? ' \r' : ''))
          .join('\n')}\n`,
      );
    }
    const text = `-- Dumping data for table \`big\`\n${statements.join('')}UNLOCK TABLES;\n-- Dump completed on 2026-12-01\n`;
    for (const size of [1, 3, 64, 997, 65536]) {
      const { out, filter } = await run(text, 'all', size);
      assert.equal(out, text);
      assert.deepEqual(filter.rows, { big: 5000 }, `chunks of ${size}`);
      assert.equal(filter.trailer, true);
      const data = await run(text, 'data', size);
      assert.equal(data.out, text.replace(/^-- .*\n/gm, ''), `data part, chunks of ${size}`);
    }
  });

  it("reads the snapshot's binlog position from --master-data=2's comments, and none without them", async () => {
    const positioned = mariadb
      .replace('--\n-- Table structure', "-- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000002', MASTER_LOG_POS=76770386;\n\n--\n-- Table structure")
      .replace('-- Dump completed', "-- SET GLOBAL gtid_slave_pos='0-1-86';\n-- Dump completed");
    for (const size of [1, 7, 4096]) {
      const { out, filter } = await run(positioned, 'all', size);
      assert.equal(out, positioned);
      assert.deepEqual(filter.binlog, { file: 'binlog.000002', position: 76770386, gtid: '0-1-86' });
      assert.deepEqual(filter.rows, { t: 3 });
    }
    assert.equal((await run(mariadb, 'all')).filter.binlog, undefined);
    assert.ok(!(await run(positioned, 'schema')).out.includes('CHANGE MASTER'), 'the comment stays out of the staged restore');
  });

  it('reads odd table names', async () => {
    const { filter } = await run('INSERT INTO `we``ird (1)` VALUES\n(1);\n', 'all');
    assert.deepEqual(filter.rows, { 'we`ird (1)': 1 });
  });
});

describe('RowLines', () => {
  it('counts rows one per line across chunk boundaries and stops after the line that ends the statement', () => {
    const rows = new RowLines();
    rows.start();
    const first = rows.read(Buffer.from("(1,'a;'),\n(2,"), 0);
    assert.deepEqual(first, { end: 13, rows: 2, ended: false });
    const rest = Buffer.from("'b') ;\nUNLOCK TABLES;\n");
    assert.deepEqual(rows.read(rest, 0), { end: 7, rows: 0, ended: true });
  });
});
