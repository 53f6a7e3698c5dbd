import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authEnv, connectionArgs, infoField, parseKeyspace } from './args.js';

describe('redis argument builders', () => {
  it('passes the password in REDISCLI_AUTH, never in argv', () => {
    const conn = { host: 'h', port: 6380, password: 'secret' };
    assert.deepEqual(connectionArgs(conn), ['-h', 'h', '-p', '6380']);
    assert.deepEqual(connectionArgs({ ...conn, socket: '/x/s' }), ['-s', '/x/s']);
    assert.deepEqual(authEnv(conn), { REDISCLI_AUTH: 'secret' });
  });

  it('parses INFO keyspace', () => {
    assert.deepEqual(parseKeyspace('# Keyspace\r\ndb0:keys=6,expires=1,avg_ttl=0\r\ndb3:keys=2,expires=1,avg_ttl=5\r\n'), {
      0: { keys: 6, expires: 1 },
      3: { keys: 2, expires: 1 },
    });
  });
});

describe('redis INFO', () => {
  it('reads a field of INFO', () => {
    assert.equal(infoField('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n', 'redis_version'), '7.0.15');
    assert.equal(infoField('redis_mode:standalone\n', 'redis_version'), undefined);
  });
});
