import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startMariaDb, startPostgres, startRedis } from '../lib/servers.js';

// The harness itself: each server starts on its own port, answers, and is gone after stop().
describe('test servers', () => {
  it('starts and stops a private MariaDB', async () => {
    const db = await startMariaDb();
    try {
      assert.notEqual(db.port, 3306);
      assert.match(await db.sql('SELECT VERSION()'), /MariaDB/);
    } finally {
      await db.stop();
    }
  });

  it('starts and stops a private PostgreSQL', async () => {
    const pg = await startPostgres();
    try {
      assert.notEqual(pg.port, 5432);
      assert.equal(await pg.sql('SELECT 40 + 2'), '42');
    } finally {
      await pg.stop();
    }
  });

  it('starts and stops a private Redis with a password', async () => {
    const redis = await startRedis({ password: 'r-pw' });
    try {
      assert.equal(await redis.cli('SET', 'k', 'v'), 'OK');
      assert.equal(await redis.cli('GET', 'k'), 'v');
    } finally {
      await redis.stop();
    }
  });
});
