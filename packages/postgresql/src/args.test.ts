import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conninfo, dumpArgs, majorOf, passfileLine } from './args.js';

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
});
