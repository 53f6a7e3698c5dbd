import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conninfo, dumpArgs, factsScript, globalsArgs, majorOf, parseFacts, passfileLine, wrappedBinary, wrapperLeavesConnection } from './args.js';

describe('postgresql argument builders', () => {
  it('quotes the database inside the conninfo, so dbname=… or -f… stay names', () => {
    assert.equal(conninfo({ host: 'h', port: 5433, user: 'u' }, "dbname=template1 x'y\\"), "host='h' port='5433' user='u' dbname='dbname=template1 x\\'y\\\\'");
    assert.deepEqual(dumpArgs("dbname='-f'"), ['--format=custom', '--compress=0', '--no-password', "--dbname=dbname='-f'"]);
  });

  it('escapes passfile fields', () => {
    assert.equal(passfileLine({ host: 'h', port: 5432, user: 'u:x', password: 'p:w\\d' }), 'h:5432:*:u\\:x:p\\:w\\\\d\n');
    assert.equal(passfileLine({ password: 'p' }), '*:*:*:*:p\n');
  });

  it('reads major versions from pg_dump --version and server_version_num', () => {
    assert.equal(majorOf('pg_dump (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)'), 15);
    assert.equal(majorOf('170002'), 17);
    assert.equal(majorOf('90624'), 9);
  });

  it('reads the version line and the rows per table that psql printed, names as JSON', () => {
    const out = '150020\tPostgreSQL 15.20 on x86_64\n"public.a"\t1000\n"s.t\\tab\\nline"\t3\n';
    assert.deepEqual(parseFacts(out), { versionNum: '150020', version: 'PostgreSQL 15.20 on x86_64', rowCounts: { 'public.a': 1000, 's.t\tab\nline': 3 } });
    assert.deepEqual(parseFacts('150020\tPostgreSQL 15.20\n').rowCounts, {});
  });

  it('runs the binary behind pg_wrapper only where the wrapper could change nothing else', () => {
    // PGHOST: the wrapper picks no cluster, so it sets neither PGHOST nor PGPORT.
    assert.equal(wrapperLeavesConnection({}, { PGHOST: '/run/pg' }), true);
    assert.equal(wrapperLeavesConnection({ host: 'db1', port: 5432 }, {}), true);
    assert.equal(wrapperLeavesConnection({ host: 'db1' }, { PGPORT: '5433' }), true);
    // Otherwise a local cluster's socket folder or port would apply to what batt leaves unset.
    assert.equal(wrapperLeavesConnection({}, {}), false);
    assert.equal(wrapperLeavesConnection({ host: 'db1' }, {}), false);
    assert.equal(wrapperLeavesConnection({ port: 5432 }, { PGPORT: '5432' }), false);
    assert.equal(wrapperLeavesConnection({ host: 'db1' }, { PGPORT: '' }), false);
  });

  it('finds the binary of the version the tool said through pg_wrapper', () => {
    assert.equal(wrappedBinary('pg_dump', 'pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)'), '/usr/lib/postgresql/15/bin/pg_dump');
    assert.equal(wrappedBinary('pg_restore', 'pg_restore (PostgreSQL) 9.6.24'), '/usr/lib/postgresql/9.6/bin/pg_restore');
    assert.equal(wrappedBinary('psql', 'psql (PostgreSQL) 17.6 (Debian 17.6-1)'), '/usr/lib/postgresql/17/bin/psql');
    assert.equal(wrappedBinary('psql', 'psql (PostgreSQL) 12.22'), undefined); // the wrapper preloads readline
    assert.equal(wrappedBinary('pg_dump', undefined), undefined);
    assert.equal(wrappedBinary('pg_dump', 'pg_dump 15'), undefined);
  });
});

describe('postgresql globals and facts builders', () => {
  it('dumps roles and tablespaces only, never prompting', () => {
    assert.deepEqual(globalsArgs("dbname='postgres'"), ['--globals-only', '--no-password', "--dbname=dbname='postgres'"]);
  });

  it('asks for the version alone, or for the rows of every table as a dump holds them', () => {
    assert.equal(factsScript(false), "SELECT current_setting('server_version_num'), version();\n");
    assert.match(factsScript(true), /count\(\*\) FROM %I\.%I.*\n\\gexec\n$/s);
    assert.match(factsScript(true, true), /FROM ONLY %I\.%I.*relkind = 'r'.*\n\\gexec\n$/s);
  });
});
