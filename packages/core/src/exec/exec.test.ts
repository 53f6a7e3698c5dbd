import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { spawnTool } from './exec.js';
import { writeArtifact } from '../pipeline/artifact.js';

// Ctrl-C can land between two stages of a backup: after the temporary file exists, before the
// next tool starts. That tool must stop at once, and nothing may be placed under a final name.
describe('a signal that fired before a stage started', () => {
  it('stops a tool at once when batt was interrupted before it started', async () => {
    const interrupted = AbortSignal.abort();
    const child = await spawnTool('sleep', ['600'], { signal: interrupted });
    const result = await child.result;
    assert.equal(result.signal, 'SIGTERM');
    assert.equal(result.isCanceled, true);
  });

  for (const compression of ['zstd', 'gzip', 'none'] as const) {
    it(`places nothing once interrupted (${compression})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'batt-abort-'));
      try {
        const dump = { stream: Readable.from([Buffer.from('some data\n')]), done: Promise.resolve({}) };
        await assert.rejects(writeArtifact({ dump, dir, base: 'x', ext: '.txt', compression, uniqueSuffix: 'r1', signal: AbortSignal.abort() }));
        assert.deepEqual(readdirSync(dir), [], 'no file, final or temporary');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
