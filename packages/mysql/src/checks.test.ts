import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ddlDuringDump, ddlInDumpError, granteeOf, lockedSchemas, missingPrivileges, normalDefinition, parseVersion, toolMisfit } from './checks.js';

describe("mysql doctor's pure checks", () => {
  it('reads the flavour and version of tools and servers', () => {
    assert.deepEqual(parseVersion('mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)'), { flavor: 'mariadb', major: 10, minor: 11, patch: 19 });
    assert.deepEqual(parseVersion('mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu (x86_64)'), { flavor: 'mariadb', major: 11, minor: 4, patch: 2 });
    assert.deepEqual(parseVersion('10.11.19-MariaDB-0+deb12u1'), { flavor: 'mariadb', major: 10, minor: 11, patch: 19 });
    assert.deepEqual(parseVersion('mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)'), { flavor: 'mysql', major: 8, minor: 0, patch: 36 });
    assert.deepEqual(parseVersion('mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)'), { flavor: 'mysql', major: 5, minor: 7, patch: 44 });
    assert.deepEqual(parseVersion('8.0.36-28'), { flavor: 'mysql', major: 8, minor: 0, patch: 36 });
    assert.equal(parseVersion('nonsense'), undefined);
  });

  it('a dump tool fits a server of its flavour and no newer version; MySQL 8 mysqldump never fits MariaDB', () => {
    const maria = (v: string): string => `mariadb-dump  Ver 10.19 Distrib ${v}-MariaDB, for debian-linux-gnu (x86_64)`;
    assert.equal(toolMisfit('mariadb-dump', maria('10.11.19'), '10.11.6-MariaDB'), undefined);
    assert.equal(toolMisfit('mariadb-dump', maria('11.4.2'), '10.11.6-MariaDB'), undefined);
    assert.match(toolMisfit('mariadb-dump', maria('10.5.23'), '10.11.6-MariaDB-0+deb12u1') ?? '', /10\.5 is older than the MariaDB 10\.11 server/);
    assert.match(toolMisfit('mysqldump', 'mysqldump  Ver 8.0.36 for Linux', '10.11.6-MariaDB') ?? '', /MySQL's 8\.0, which cannot dump a MariaDB 10\.11 server/);
    assert.match(toolMisfit('mysqldump', 'mysqldump  Ver 10.13 Distrib 5.7.44, for Linux', '8.0.36') ?? '', /5\.7 is older than the MySQL 8\.0 server/);
    assert.equal(toolMisfit('mariadb-dump', maria('10.11.19'), '8.0.36'), undefined, "MariaDB's tool dumps MySQL");
    assert.equal(toolMisfit('mysqldump', undefined, '8.0.36'), undefined, 'unknown: no verdict');
  });

  it('finds the privileges a dump lacks, global and per schema (LIKE patterns), LOCK TABLES and PROCESS only when needed', () => {
    assert.equal(granteeOf('batt@127.0.0.1'), "'batt'@'127.0.0.1'");
    assert.equal(granteeOf('a@b@%'), "'a@b'@'%'");
    const all = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'LOCK TABLES'].map((p) => ['', p]);
    assert.deepEqual(missingPrivileges(all, 'shop', { lockTables: true }), []);
    assert.deepEqual(missingPrivileges([['', 'SELECT']], 'shop', { lockTables: false }), ['SHOW VIEW', 'TRIGGER', 'EVENT']);
    const perSchema = [
      ['', 'SELECT'],
      ['shop\\_%', 'SHOW VIEW'],
      ['shop\\_%', 'TRIGGER'],
      ['shop\\_%', 'EVENT'],
    ];
    assert.deepEqual(missingPrivileges(perSchema, 'shop_eu', { lockTables: false }), []);
    assert.deepEqual(missingPrivileges(perSchema, 'shopXeu', { lockTables: false }), ['SHOW VIEW', 'TRIGGER', 'EVENT'], '\\_ is a literal _');
    assert.deepEqual(missingPrivileges(perSchema, 'shop_eu', { lockTables: true }), ['LOCK TABLES']);
    assert.deepEqual(missingPrivileges(all, 'shop', { lockTables: false, server: parseVersion('8.0.36') }), ['PROCESS']);
    assert.deepEqual(missingPrivileges(all, 'shop', { lockTables: false, server: parseVersion('8.0.20') }), []);
  });

  it('schemas with a non-transactional base table need locks', () => {
    const rows = [
      ['shop', 'InnoDB'],
      ['legacy', 'InnoDB'],
      ['legacy', 'MyISAM'],
      ['views_only', ''],
    ];
    assert.deepEqual([...lockedSchemas(rows)], ['legacy']);
  });
});

describe('DDL during a dump', () => {
  const create = (cols: string, ai: number): string =>
    `CREATE TABLE \`t\` (\n  \`id\` int(11) NOT NULL AUTO_INCREMENT,${cols}\n  PRIMARY KEY (\`id\`)\n) ENGINE=InnoDB AUTO_INCREMENT=${ai} DEFAULT CHARSET=utf8mb4`;

  it('ignores the AUTO_INCREMENT that inserts move, and a trailing semicolon; sees a column or an index added', () => {
    assert.equal(normalDefinition(create('', 5)), normalDefinition(`${create('', 2005)};\n`));
    const before = new Map<string, string | undefined>([
      ['t', create('', 5)],
      ['s', undefined],
    ]);
    assert.deepEqual(ddlDuringDump(before, { definitions: { t: create('', 9000), s: 'CREATE SEQUENCE s' } }), []);
    assert.deepEqual(ddlDuringDump(before, { definitions: { t: create('\n  `extra` int(11) DEFAULT 7,', 5) } }), ['`t` (its definition changed)']);
    assert.deepEqual(ddlDuringDump(before, { definitions: {} }), [], 'a table the dump does not hold is left to ddlInDumpError');
  });

  it("reads mysqldump's 1412 and 1146 errors, for tables it knew of only", () => {
    const known = new Set(['z_t', 'we`ird']);
    assert.equal(
      ddlInDumpError('mysqldump: Error 1412: Table definition has changed, please retry transaction when dumping table `z_t` at row: 0', known),
      '`z_t` (altered or truncated)',
    );
    assert.equal(ddlInDumpError("mysqldump: Couldn't execute 'show create table `we``ird`': Table 'ddl.we`ird' doesn't exist (1146)", known), '`we`ird` (dropped or renamed)');
    assert.equal(ddlInDumpError("mysqldump: Couldn't execute 'show create table `other`': Table 'ddl.other' doesn't exist (1146)", known), undefined);
    assert.equal(ddlInDumpError('mysqldump: Got error: 1045: "Access denied for user"', known), undefined);
  });
});
