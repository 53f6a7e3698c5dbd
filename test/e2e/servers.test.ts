/**
 * The server harness itself, for what the other suites rely on: each server is ours (on its own
 * port, in its own folder), stop() really stops it and removes its folder, and a test process
 * that dies, even by SIGKILL, takes its servers with it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { startMariaDb, startPostgres, startRedis, type Server } from '../lib/servers.js';

/** Whether `pid` runs: a zombie (dead, not yet reaped) holds nothing and counts as gone. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Waits (bounded) for `pid` to be gone: the kernel's kill and the exit take a moment. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

async function stopsForReal(server: Server): Promise<void> {
  assert.ok(alive(server.pid), 'the server runs');
  assert.ok(await listening(server.port), 'it listens on its port');
  await server.stop();
  assert.equal(alive(server.pid), false, 'stop() ended the process');
  assert.equal(await listening(server.port), false, 'nothing listens on its port any more');
  assert.equal(existsSync(server.dir), false, 'its folder is removed');
}

describe('test servers', () => {
  it('a private MariaDB answers as ours, on its own port, and stop() ends it', async () => {
    const db = await startMariaDb();
    assert.equal(await db.sql('SELECT @@port'), String(db.port));
    assert.equal(await db.sql('SELECT @@datadir'), join(db.dir, 'data') + '/');
    await stopsForReal(db);
  });

  it('a private PostgreSQL answers as ours, on its own port, and stop() ends it', async () => {
    const pg = await startPostgres();
    assert.equal(await pg.sql('SHOW port'), String(pg.port));
    assert.equal(await pg.sql('SHOW data_directory'), join(pg.dir, 'data'));
    await stopsForReal(pg);
  });

  it('a private Redis with a password answers as ours, and stop() ends it', async () => {
    const redis = await startRedis({ password: 'r-pw' });
    assert.equal(await redis.cli('SET', 'k', 'v'), 'OK');
    assert.match(await redis.cli('CONFIG', 'GET', 'dir'), new RegExp(redis.dir));
    await stopsForReal(redis);
  });

  it('servers die with a test process killed by SIGKILL', async () => {
    // A test process of its own: it starts one server of each kind, prints their pids, and waits.
    const lib = new URL('../lib/servers.js', import.meta.url).pathname;
    const script = `import { startMariaDb, startPostgres, startRedis } from ${JSON.stringify(lib)};
      const s = await Promise.all([startMariaDb(), startPostgres(), startRedis()]);
      console.log(JSON.stringify(s.map((x) => ({ pid: x.pid, dir: x.dir }))));
      setInterval(() => {}, 1000);`;
    const child = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      void child.then(() => reject(new Error(`the child exited first: ${out}`)));
    });
    const servers = JSON.parse(line) as { pid: number; dir: string }[];
    assert.equal(servers.length, 3);
    assert.ok(
      servers.every((s) => alive(s.pid)),
      'all three run',
    );
    child.kill('SIGKILL');
    await child;
    for (const s of servers) assert.ok(await gone(s.pid), `server ${s.pid} outlived its test process`);
    for (const s of servers) await execa('rm', ['-rf', s.dir]);
  });
});
