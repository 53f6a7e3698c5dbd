import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { clientOptionFile, dumpArgs, nonTransactionalTables, parseBatch, quoteIdent, rowCountQuery, skipped, sqlString, tablesQuery } from './args.js';

describe('mysql argument builders', () => {
  it('keeps the password in the option file, quoted, and never in argv', () => {
    const file = clientOptionFile({ host: 'db', port: 3307, user: 'u', password: 'p"w\\x\'y' });
    assert.equal(file, '[client]\nhost="db"\nport="3307"\nuser="u"\npassword="p\\"w\\\\x\'y"\n');
    const args = dumpArgs('/tmp/c.cnf', 'shop', { lockTables: false, part: 'all' });
    assert.equal(args[0], '--defaults-file=/tmp/c.cnf');
    assert.ok(!args.some((a) => a.includes('p"w')));
  });

  it('the shipped example config names the option file flag the code passes', () => {
    const used = /^--defaults[\w-]*file/.exec(dumpArgs('/c', 'x', { lockTables: false, part: 'all' })[0])![0];
    const example = readFileSync(new URL('../../../conf/mysql.example.yaml', import.meta.url), 'utf8');
    const named = [...example.matchAll(/--defaults[\w-]*file/g)].map((m) => m[0]);
    assert.ok(named.length > 0, 'the example says how the password is passed');
    assert.deepEqual([...new Set(named)], [used]);
  });

  it('puts the database after --, so an option-like name stays a name', () => {
    const args = dumpArgs('/c', '--result-file=/tmp/x', { lockTables: false, part: 'all' });
    assert.deepEqual(args.slice(-2), ['--', '--result-file=/tmp/x']);
    assert.ok(args.includes('--single-transaction') && args.includes('--routines') && args.includes('--triggers') && args.includes('--events'));
    assert.ok(dumpArgs('/c', 'x', { lockTables: true, part: 'all' }).includes('--lock-tables'));
  });

  it('asks for the binlog position only inside one transaction: under --lock-tables it would lock every table', () => {
    assert.ok(!dumpArgs('/c', 'x', { lockTables: false, part: 'all' }).includes('--master-data=2'));
    assert.ok(dumpArgs('/c', 'x', { lockTables: false, part: 'all', binlogPosition: true }).includes('--master-data=2'));
    assert.ok(!dumpArgs('/c', 'x', { lockTables: true, part: 'all', binlogPosition: true }).some((a) => a.startsWith('--master-data')));
  });

  it('quotes names for SQL so that no name can break out', () => {
    assert.equal(quoteIdent('a`b'), '`a``b`');
    assert.equal(sqlString("x'; DROP"), 'CONVERT(0x78273b2044524f50 USING utf8mb4)');
    assert.equal(rowCountQuery('d', ['t']), 'SELECT CONVERT(0x74 USING utf8mb4), COUNT(*) FROM `d`.`t`');
  });

  it('reads mysql -B output with its escapes', () => {
    assert.deepEqual(parseBatch('a\\tb\tc\\nd\ne\\\\f\t1'), [
      ['a\tb', 'c\nd'],
      ['e\\f', '1'],
    ]);
    assert.deepEqual(parseBatch(''), []);
  });

  it('finds tables that cannot join a consistent snapshot', () => {
    assert.deepEqual(
      nonTransactionalTables([
        ['a', 'InnoDB', 'BASE TABLE'],
        ['b', 'MyISAM', 'BASE TABLE'],
        ['v', '', 'VIEW'],
        ['c', 'Aria', 'BASE TABLE'],
      ]),
      ['b (MyISAM)', 'c (Aria)'],
    );
  });
});

describe('mysql queries', () => {
  it("lists a database's tables with the name as a hex literal, never as quoted text", () => {
    const q = tablesQuery("x' OR 1=1 -- ");
    assert.ok(q.endsWith(`WHERE table_schema = ${sqlString("x' OR 1=1 -- ")} ORDER BY table_name`));
    assert.ok(!q.includes('OR 1=1'), q);
  });
});

describe('skipped', () => {
  it('leaves out the system schemas and mysql.exclude; include_system keeps `mysql` only', () => {
    assert.deepEqual([...skipped({})].sort(), ['information_schema', 'mysql', 'performance_schema', 'sys']);
    assert.deepEqual([...skipped({ include_system: true, exclude: ['scratch'] })].sort(), ['information_schema', 'performance_schema', 'scratch', 'sys']);
  });
});
