/**
 * `batt catalog rebuild --from <storage>`: the machine died with its catalog and backups; the
 * catalog comes back from the manifests copied to S3 (s3rver) or an rclone remote (webdav), and
 * restore fetches what is no longer here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { catalogIsWhole, json, type Sandbox } from '../lib/batt.js';
import { s3Offsite, webdavOffsite } from '../lib/offsite.js';

const lose = (box: Sandbox): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(box.home, `catalog.db${suffix}`), { force: true });
};
const restored = (to: string, data: string): string => readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8');

describe('catalog rebuild --from an S3 bucket', () => {
  const bucket = s3Offsite({ 'a.txt': 'alpha\n'.repeat(4000) });

  it('brings back every run with its copies, fetches a lost file on restore, and leaves out a planted manifest', async () => {
    const { box, data, server: s3 } = bucket;
    const gone = json(await box.batt(['--file', data, '--json']));
    const kept = json(await box.batt(['--file', data, '--json']));
    assert.deepEqual([gone.status, kept.status], ['ok', 'ok']);
    const goneItem = json(await box.batt(['show', String(gone.id), '--json'])).items[0];
    const keptItem = json(await box.batt(['show', String(kept.id), '--json'])).items[0];
    // Someone who can write to the bucket plants a manifest naming a file outside the backups.
    const storage = s3.storage();
    const manifestKey = posix.join(posix.dirname(goneItem.copies[0].key), `batt-run-${gone.id}.json`);
    const planted = JSON.parse(readFileSync(join(goneItem.file, '..', `batt-run-${gone.id}.json`), 'utf8'));
    planted.run.id = 999;
    planted.items[0].name = 'hostname';
    planted.items[0].file = '/etc/hostname';
    await storage.put(posix.join(posix.dirname(manifestKey), 'batt-run-999.json'), JSON.stringify(planted));

    lose(box);
    rmSync(goneItem.file);
    const r = await box.batt(['catalog', 'rebuild', '--from', 'offsite', '--json']);
    assert.equal(r.exitCode, 1, 'something was left out');
    const report = json(r);
    assert.equal(report.runs, 2);
    assert.equal(report.items, 2);
    assert.deepEqual(
      report.skipped.map((s: { why: string }) => s.why.replace(/\(.*\)/, '()')),
      ['run 999 names the local file "/etc/hostname", which is not inside this home\'s backup folders (): configure the destination the backups were made with'],
    );

    const shown = json(await box.batt(['show', String(gone.id), '--json'])).items[0];
    assert.deepEqual(
      [shown.file, shown.sha256, shown.copies.map((c: { storage: string; key: string }) => [c.storage, c.key])],
      [goneItem.file, goneItem.sha256, [['offsite', goneItem.copies[0].key]]],
    );
    assert.equal(json(await box.batt(['show', String(kept.id), '--json'])).items[0].copies[0].key, keptItem.copies[0].key);
    await catalogIsWhole(box);

    const to = join(box.dir, 'restored');
    const restore = await box.batt(['restore', String(gone.id), 'file', '--to', to]);
    assert.equal(restore.exitCode, 0, restore.stderr);
    assert.equal(restored(to, data), 'alpha\n'.repeat(4000));
    assert.equal(existsSync(goneItem.file), false, 'a file known only in the storage is not kept after the restore');
    assert.equal(existsSync(keptItem.file), true);
  });

  it('refuses a storage the configuration does not name, and folders with --from', async () => {
    const { box } = bucket;
    const unknown = await box.batt(['catalog', 'rebuild', '--from', 'nowhere']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /names no storage "nowhere".*\n.*offsite/);
    const both = await box.batt(['catalog', 'rebuild', box.out, '--from', 'offsite']);
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /either backup folders or --from/);
  });
});

describe('catalog rebuild --from an rclone remote', () => {
  const remote = webdavOffsite({ 'a.txt': 'beta\n'.repeat(3000) });

  it('brings back the run with its copy keyed as the run made it, and restores from the remote', async () => {
    const { box, data, server: served } = remote;
    const run = json(await box.batt(['--file', data, '--json']));
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    assert.ok(existsSync(join(served.dir, 'backups', hostname(), item.copies[0].key)));
    lose(box);
    rmSync(item.file);
    const r = await box.batt(['catalog', 'rebuild', '--from', 'dav']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /from the storage dav: 1 runs, 1 backups/);
    const shown = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    assert.deepEqual(
      shown.copies.map((c: { storage: string; key: string }) => [c.storage, c.key]),
      [['dav', item.copies[0].key]],
    );
    const to = join(box.dir, 'restored');
    const restore = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(restore.exitCode, 0, restore.stderr);
    assert.equal(restored(to, data), 'beta\n'.repeat(3000));
  });
});
