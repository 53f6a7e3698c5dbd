/** Off-site copies in an rclone remote (rclone serve webdav on loopback, started here). */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { json, sandbox } from '../lib/batt.js';
import { webdavOffsite } from '../lib/offsite.js';
import { rcloneStorageYaml } from '../lib/rclone.js';

describe('copies in an rclone remote', () => {
  const remote = webdavOffsite({ 'a.txt': 'alpha\n'.repeat(3000) });

  it('a backup is copied, read back, and restored from the remote once the local file is gone; prune removes the copy', async () => {
    const { box, data, server: served } = remote;
    const run = json(await box.batt(['--file', data, '--json']));
    assert.equal(run.status, 'ok', JSON.stringify(run));
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    const [copy] = item.copies;
    assert.equal(copy.storage, 'dav');
    const onServer = join(served.dir, 'backups', (await import('node:os')).hostname(), copy.key);
    assert.deepEqual(readFileSync(onServer), readFileSync(item.file), `${onServer} holds the same bytes`);
    rmSync(item.file);
    const to = join(box.dir, 'restored');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(3000));
    assert.equal((await box.batt(['--file', data, '-q'])).exitCode, 0);
    assert.equal((await box.batt(['prune', '--keep-last', '1'])).exitCode, 0);
    assert.equal(existsSync(onServer), false, 'the pruned backup is gone from the remote');
  });

  it('verify --from reads the remote copy, not the local file; catalog check finds it gone from the remote', async () => {
    const { box, data, server: served } = remote;
    const run = json(await box.batt(['--file', data, '--json']));
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    rmSync(item.file);
    const v = await box.batt(['verify', String(run.id), '--from', 'dav', '--json']);
    assert.equal(v.exitCode, 0, v.stderr);
    assert.match(json(v)[0].checks[0].detail, /read from dav/);
    assert.equal(existsSync(item.file), false, 'not fetched into the backup folder');
    // Through the server (which caches its folder listings), as another client would.
    assert.equal(await served.storage(`backups/${(await import('node:os')).hostname()}`).delete(item.copies[0].key), true);
    const check = await box.batt(['catalog', 'check', '--quick', '--json']);
    assert.equal(check.exitCode, 1);
    assert.deepEqual(
      json(check)
        .problems.filter((p: { storage?: string }) => p.storage)
        .map((p: { kind: string; storage: string }) => [p.kind, p.storage]),
      [['copy-missing', 'dav']],
    );
    assert.equal((await box.batt(['prune', '--keep-last', '1'])).exitCode, 0);
  });

  it('a remote that is down stops the run before any dump, naming it', async () => {
    const { data, server: served } = remote;
    await served.stop();
    try {
      const other = sandbox({ env: served.env });
      try {
        appendFileSync(join(other.home, 'conf', 'batt.config.yaml'), rcloneStorageYaml(served, 'dav', 'x'));
        const r = await other.batt(['--file', data]);
        assert.notEqual(r.exitCode, 0);
        assert.match(r.stderr, /batttest|dav/);
        assert.equal(existsSync(other.out), false, 'nothing was dumped');
      } finally {
        other.cleanup();
      }
    } finally {
      await served.start();
    }
  });
});
