/** Off-site copies in a real S3-compatible server (s3rver on loopback, started here). */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { catalogIsWhole, json, sandbox, type Sandbox } from '../lib/batt.js';
import { s3Offsite } from '../lib/offsite.js';
import { keysIn } from '../lib/s3.js';

const conf = (box: Sandbox): string => join(box.home, 'conf', 'batt.config.yaml');

describe('copies in S3', () => {
  const bucket = s3Offsite({ 'a.txt': 'alpha\n'.repeat(5000) });
  const objects = (): Promise<string[]> => keysIn(bucket.server.storage());

  it('a backup is copied with its manifest and SHA256SUMS, read back, and restored from the bucket once the local file is gone', async () => {
    const { box, data } = bucket;
    const storage = bucket.server.storage();
    const run = json(await box.batt(['--file', data, '--json']));
    assert.equal(run.status, 'ok');
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    assert.equal(item.copies.length, 1);
    const keys = await objects();
    assert.ok(keys.includes(item.copies[0].key), `${item.copies[0].key} in ${keys.join(', ')}`);
    assert.ok(keys.some((k) => k.endsWith('/SHA256SUMS')) && keys.some((k) => k.endsWith(`/batt-run-${run.id}.json`)));
    assert.deepEqual(await storage.openUploads(), [], 'no multipart upload left open');
    rmSync(item.file);
    const to = join(box.dir, 'restored');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(5000));
  });

  it('restore --from and verify --from read the bucket copy though the local file is there; catalog check finds a copy missing or changed in the bucket', async () => {
    const { box, data } = bucket;
    const storage = bucket.server.storage();
    const run = json(await box.batt(['--file', data, '--json']));
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    const key = item.copies[0].key as string;
    const good = readFileSync(item.file);
    writeFileSync(item.file, 'not the backup');
    const to = join(box.dir, 'from-bucket');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to, '--from', 'offsite']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`from offsite: ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(5000));
    assert.equal(readFileSync(item.file, 'utf8'), 'not the backup', 'the local file is left alone');
    const v = await box.batt(['verify', String(run.id), '--from', 'offsite', '--json']);
    assert.equal(v.exitCode, 0, v.stderr);
    const checks: { name: string; ok: boolean; detail: string }[] = json(v)[0].checks;
    assert.ok(
      checks.every((c) => c.ok),
      JSON.stringify(checks),
    );
    assert.match(checks.find((c) => c.name === 'copy')!.detail, /read from offsite/);
    assert.match(checks.find((c) => c.name === 'SHA256SUMS')!.detail, /lists the same SHA-256/, 'the SHA256SUMS copied to the bucket');
    writeFileSync(item.file, good);
    // The bucket copy changed (same size, other bytes), then gone: catalog check names storage and key.
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1] ^= 0xff;
    await storage.put(key, flipped);
    let check = json(await box.batt(['catalog', 'check', '--json']));
    assert.deepEqual(
      check.problems.filter((p: { storage?: string }) => p.storage).map((p: { kind: string; storage: string; key: string }) => [p.kind, p.storage, p.key]),
      [['copy-sha256', 'offsite', key]],
    );
    await storage.delete(key);
    const quick = await box.batt(['catalog', 'check', '--quick', '--json']);
    assert.equal(quick.exitCode, 1);
    check = json(quick);
    assert.deepEqual(
      check.problems.filter((p: { storage?: string }) => p.storage).map((p: { kind: string; key: string }) => [p.kind, p.key]),
      [['copy-missing', key]],
    );
    const refused = await box.batt(['verify', String(run.id), '--from', 'offsite']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stdout, /in offsite .* cannot be used: .* is missing from offsite/);
    await storage.put(key, good);
    await catalogIsWhole(box, 'whole again');
  });

  it('prune deletes the bucket copies of the backups it removes', async () => {
    const { box, data } = bucket;
    const first = json(await box.batt(['--file', data, '--json']));
    const key = json(await box.batt(['show', String(first.id), '--json'])).items[0].copies[0].key as string;
    assert.ok((await objects()).includes(key));
    assert.equal((await box.batt(['--file', data, '-q'])).exitCode, 0);
    const r = await box.batt(['prune', '--keep-last', '1']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal((await objects()).includes(key), false, `${key} is gone from the bucket`);
  });

  it('wrong credentials stop the run before any dump, with the fix', async () => {
    const { data, server: s3 } = bucket;
    const other = sandbox();
    try {
      const secret = join(other.dir, 's3.secret');
      writeFileSync(secret, 'not-the-secret', { mode: 0o600 });
      appendFileSync(
        conf(other),
        `storage:\n  - name: offsite\n    type: s3\n    bucket: ${s3.bucket}\n    endpoint: ${s3.endpoint}\n    force_path_style: true\n    access_key_id: WRONG\n    secret_access_key_file: ${JSON.stringify(secret)}\n`,
      );
      const r = await other.batt(['--file', data]);
      assert.notEqual(r.exitCode, 0);
      assert.match(r.stderr, /credential|access key|signature/i);
      assert.doesNotMatch(r.stderr, /not-the-secret/);
      assert.equal(existsSync(other.out), false, 'nothing was dumped');
    } finally {
      other.cleanup();
    }
  });
});
