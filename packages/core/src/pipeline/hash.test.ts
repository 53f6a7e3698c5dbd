import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { hashGrowingFile } from './hash.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'batt-hash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('hashGrowingFile', () => {
  it('hashes a file while another process appends to it, up to its last byte', async () => {
    const path = join(dir, 'growing');
    writeFileSync(path, '');
    // 40 appends of 300 KiB, with pauses, so the reader catches up with the writer many times.
    const writer = run('sh', ['-c', `for i in $(seq 40); do head -c 307200 /dev/urandom >> "$1"; sleep 0.01; done`, 'sh', path]);
    const result = await hashGrowingFile(path, writer);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 40 * 307200);
    assert.deepEqual(result, { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('fails when the writer fails', async () => {
    const path = join(dir, 'failed');
    writeFileSync(path, 'partial');
    const writer = run('sh', ['-c', 'sleep 0.05; exit 3']);
    await assert.rejects(hashGrowingFile(path, writer), /exit|code 3|Command failed/i);
  });
});
