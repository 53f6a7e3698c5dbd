import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeCatalog, openCatalog } from '../catalog/db.js';
import { createRun, finishItem, startItem } from '../catalog/queries.js';
import { durableMetadata } from './durable.js';

describe('durableMetadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-durable-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the manifests again at the run's end only when a failure came after the last item", async () => {
    const db = await openCatalog(join(dir, 'catalog.db'));
    try {
      const startedAt = new Date().toISOString();
      const id = createRun(db, { startedAt, host: 'h', user: 'u', destination: dir, services: 'file', pid: process.pid });
      const metadata = durableMetadata(db, { id, startedAt, host: 'h', user: 'u', destination: dir, battVersion: '0' }, () => dir);
      const file = join(dir, 'a.tar.zst');
      writeFileSync(file, 'a');
      await metadata.record([{ service: 'file', target: '/a', file, bytes: 1, sha256: 'a'.repeat(64), compression: 'zstd' }]);
      const manifest = join(dir, `batt-run-${id}.json`);
      const sums = join(dir, 'SHA256SUMS');
      assert.match(readFileSync(sums, 'utf8'), / {2}a\.tar\.zst\n/);

      // Nothing new since: the files are as the run left them, and not read or written again.
      writeFileSync(sums, 'left alone\n');
      assert.deepEqual(await metadata.writeAll(), [manifest]);
      assert.equal(readFileSync(sums, 'utf8'), 'left alone\n');

      // A failed item since: both are written again, with it.
      finishItem(db, startItem(db, id, 'file', '/b'), 'failed', { error: 'it broke' });
      assert.deepEqual(await metadata.writeAll(), [manifest]);
      assert.match(readFileSync(sums, 'utf8'), / {2}a\.tar\.zst\n/);
      assert.match(readFileSync(manifest, 'utf8'), /it broke/);
    } finally {
      closeCatalog(db);
    }
  });
});
