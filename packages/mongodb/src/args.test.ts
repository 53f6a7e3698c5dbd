import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL, configFile, dumpArgs, restoreArgs } from './args.js';

const conn = { host: 'h', port: 27018, user: 'u', password: 'p"w', authDatabase: 'adm', tls: true };

describe('mongodb argument builders', () => {
  it('keeps the password and the uri in the config file, quoted, and never in argv', () => {
    assert.equal(configFile(conn), 'password: "p\\"w"\n');
    assert.equal(configFile({ uri: 'mongodb://u:x@h/' }), 'uri: "mongodb://u:x@h/"\n');
    assert.ok(!dumpArgs('/c.yaml', conn, 'db', false).some((a) => a.includes('p"w')));
  });

  it('dumps one database as a value of --db=, or the whole instance, with the oplog on a replica set', () => {
    assert.deepEqual(dumpArgs('/c.yaml', conn, '--db=x', false), [
      '--config=/c.yaml',
      '--host=h',
      '--port=27018',
      '--username=u',
      '--authenticationDatabase=adm',
      '--ssl',
      '--archive',
      '--db=--db=x',
    ]);
    assert.deepEqual(dumpArgs('/c.yaml', {}, ALL, true), ['--config=/c.yaml', '--archive', '--oplog']);
    assert.deepEqual(dumpArgs('/c.yaml', {}, ALL, false), ['--config=/c.yaml', '--archive']);
  });

  it('leaves the connection to the uri when there is one', () => {
    assert.deepEqual(dumpArgs('/c.yaml', { ...conn, uri: 'mongodb://h/' }, 'db', false), ['--config=/c.yaml', '--archive', '--db=db']);
  });

  it('restores a database under its new name, and drops only when forced', () => {
    assert.deepEqual(restoreArgs('/c.yaml', {}, 'shop', 'shop_restore_3', false), [
      '--config=/c.yaml',
      '--archive',
      '--nsInclude=shop.*',
      '--nsFrom=shop.*',
      '--nsTo=shop_restore_3.*',
    ]);
    assert.deepEqual(restoreArgs('/c.yaml', {}, ALL, 'the whole instance', true), ['--config=/c.yaml', '--archive', '--drop']);
  });
});
