/**
 * The rclone storage against a real rclone remote: `rclone serve webdav` of a temporary folder
 * (test/lib/rclone.ts). It passes the storage conformance suite; then the faults: a server that
 * is down, a remote that is not configured, credentials the server refuses.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { storageConformance } from '@batt/core/storage/conformance';
import { RcloneStorage } from '@batt/core/storage/rclone';
import { startSftp, startWebdav, type ServedRemote } from '../lib/rclone.js';

const started: Promise<ServedRemote>[] = [];
const keep = (server: Promise<ServedRemote>): Promise<ServedRemote> => (started.push(server), server);
let sharedWebdav: Promise<ServedRemote> | undefined;
let sharedSftp: Promise<ServedRemote> | undefined;
const webdav = (): Promise<ServedRemote> => (sharedWebdav ??= fresh());
const sftp = (): Promise<ServedRemote> => (sharedSftp ??= keep(startSftp()));
const fresh = (options?: Parameters<typeof startWebdav>[0]): Promise<ServedRemote> => keep(startWebdav(options));
after(async () => {
  for (const server of started) await (await server).remove();
});

const unique = (): string => `run-${randomBytes(4).toString('hex')}`;

/** Every file under `dir` on disk, relative to it. */
const filesIn = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();

async function read(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text;
}

const noStack = (error: Error): void => assert.doesNotMatch(`${error.message} ${(error as { hint?: string }).hint ?? ''}`, /\n\s+at |goroutine/);

storageConformance('rclone webdav', async () => ({ storage: (await webdav()).storage(), prefix: unique(), cleanup: async () => {} }));
// SFTP streams an upload into its file as it comes (WebDAV's client spools it first): a failed put has a temporary object to remove.
storageConformance('rclone sftp', async () => ({ storage: (await sftp()).storage(), prefix: unique(), cleanup: async () => {} }));

describe('the rclone storage', () => {
  it('puts through a temporary object beside the key, and keys stay below the remote root', async () => {
    const server = await webdav();
    const root = unique();
    const storage = server.storage(root);
    assert.deepEqual(await storage.put('db/x.sql', 'dump'), { key: 'db/x.sql', bytes: 4 });
    assert.deepEqual(filesIn(join(server.dir, root)), ['db/x.sql'], 'no temporary object left');
    assert.equal(await read(storage.get('db/x.sql')), 'dump');
    assert.throws(() => storage.target('../escape'), /not a key/);
    assert.throws(() => storage.target('/abs'), /not a key/);
  });

  it('a source that dies in the middle of an SFTP upload leaves no temporary object', async () => {
    const server = await sftp();
    const root = unique();
    const storage = server.storage(root);
    await storage.put('keep', 'x');
    let sent = 0;
    const dying = new Readable({
      read() {
        // Past rclone's 100 KiB streaming cutoff: the temporary object on the server has 2 MiB.
        if (sent++ < 32) this.push(Buffer.alloc(64 * 1024, sent));
        else setTimeout(() => this.destroy(new Error('the source died')), 300);
      },
    });
    await assert.rejects(storage.put('dead', dying), /the source died/);
    assert.deepEqual(filesIn(join(server.dir, root)), ['keep']);
  });

  it('a key that names a folder is no object: get fails with NOT_FOUND, stat is undefined; list never lists a file as a folder', async () => {
    const storage = (await webdav()).storage(unique());
    await storage.put('folder/inside', 'inside');
    await assert.rejects(read(storage.get('folder')), (error: Error & { code?: string }) => error.code === 'NOT_FOUND');
    assert.equal(await storage.stat('folder'), undefined);
    const below: string[] = [];
    for await (const key of storage.list('folder/inside')) below.push(key);
    assert.deepEqual(below, [], 'a file is not a folder');
    const all: string[] = [];
    for await (const key of storage.list('')) all.push(key);
    assert.deepEqual(all, ['folder/inside']);
  });

  it('a put while the server is down rejects naming the remote; once it is back, there is no object and no temporary one', async () => {
    const server = await fresh();
    const storage = server.storage('backups');
    await storage.put('before', 'x');
    await server.stop();
    try {
      const big = Readable.from([Buffer.alloc(512 * 1024, 1), Buffer.alloc(512 * 1024, 2)]);
      await assert.rejects(storage.put('during', big), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'IO');
        assert.match(error.message, /cannot reach the rclone remote batttest:backups .*connection refused/);
        noStack(error);
        return true;
      });
    } finally {
      await server.start();
    }
    assert.deepEqual(filesIn(server.dir), ['backups/before']);
    assert.equal(await storage.stat('during'), undefined);
  });

  it('check() passes on a working remote and leaves nothing behind', async () => {
    const server = await webdav();
    const root = unique();
    await server.storage(root).check();
    assert.deepEqual(filesIn(join(server.dir, root)), []);
  });

  it('check() on a remote that is not configured names it and the fix', async () => {
    const server = await webdav();
    const storage = new RcloneStorage({ remote: 'nosuchremote:backups', env: server.env, configFile: '/dev/null' });
    await assert.rejects(storage.check(), (error: Error & { code?: string; hint?: string }) => {
      assert.equal(error.code, 'CONFIG');
      assert.match(error.message, /the rclone remote "nosuchremote" is not configured/);
      assert.match(error.hint ?? '', /rclone config.*RCLONE_CONFIG_NOSUCHREMOTE_TYPE/);
      noStack(error);
      return true;
    });
  });

  it('check() against a stopped server says it cannot reach it; it passes again once the server is back', async () => {
    const server = await fresh();
    await server.stop();
    try {
      await assert.rejects(server.storage().check(), (error: Error & { code?: string; hint?: string }) => {
        assert.equal(error.code, 'IO');
        assert.match(error.message, /cannot reach the rclone remote batttest: .*connection refused/);
        assert.match(error.hint ?? '', /server is up/);
        noStack(error);
        return true;
      });
    } finally {
      await server.start();
    }
    await server.storage().check();
  });

  it('check() with credentials the server refuses says so, and shows no password', async () => {
    const server = await fresh({ auth: { user: 'batt', pass: 'right-password' }, clientPass: 'wrong-password' });
    await assert.rejects(server.storage().check(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'IO');
      assert.match(error.message, /the rclone remote batttest: refused batt/);
      assert.doesNotMatch(error.message, /wrong-password|right-password/);
      assert.ok(!error.message.includes(server.env.RCLONE_CONFIG_BATTTEST_PASS), 'not even obscured');
      noStack(error);
      return true;
    });
    const good = await fresh({ auth: { user: 'batt', pass: 'right-password' } });
    await good.storage().check();
  });
});
