/**
 * The S3 server goes down in the middle of a batt backup's multipart upload (s3rver on loopback,
 * halted by the test as soon as the first part of an upload is stored): the item fails naming the
 * storage, the local file stays, the catalog claims no copy, and nothing is left in the bucket,
 * not even the parts of an open upload.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { json } from '../lib/batt.js';
import { s3Offsite } from '../lib/offsite.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('an S3 server that goes down during a multipart upload', () => {
  const bucket = s3Offsite({});
  before(() => {
    // Random bytes do not compress: the zstd artifact is ~40 MiB, five 8 MiB parts.
    const big = Buffer.alloc(40 * 1024 * 1024);
    for (let at = 0; at < big.length; at += 1024 * 1024) randomBytes(1024 * 1024).copy(big, at);
    writeFileSync(join(bucket.data, 'random.bin'), big);
  });

  it('fails the item naming the storage, keeps the local file, records no copy, and leaves no object or open upload', async () => {
    // Each upload (batt's copy retries reopen the file and start a new one) loses the server
    // right after its first part is stored; it is back a few seconds later, while batt is still
    // retrying the abort, but only after the upload's other parts have failed.
    const { box, data, server: s3 } = bucket;
    let halts = 0;
    let down: Promise<void> | undefined;
    const parts: string[] = [];
    s3.onResponse = (method, url, status) => {
      if (method !== 'PUT' || !/[?&]partNumber=\d+/.test(url)) return;
      parts.push(`${url} ${status}`);
      if (status !== 200 || down) return;
      halts++;
      down = (async () => {
        await s3.halt();
        await sleep(2500);
        await s3.resume();
        down = undefined;
      })();
    };
    const r = await box.batt(['--file', data, '--json'], { timeout: 240_000 });
    s3.onResponse = undefined;
    await down;
    assert.ok(halts >= 1, `the server was halted during a multipart upload (parts: ${parts.join(', ')})`);
    assert.notEqual(r.exitCode, 0, r.stdout);
    const run = json(r);
    const item = run.items[0];
    assert.equal(item.status, 'failed', JSON.stringify(run));
    assert.match(item.error, /the copy to offsite \(.*\) failed/);
    const shown = json(await box.batt(['show', String(run.id), '--json']));
    assert.deepEqual(shown.items[0].copies, [], 'no copy is recorded');
    assert.ok(shown.items[0].file && existsSync(shown.items[0].file), 'the local file stays');
    const key = /the copy to offsite \((.*?)\) failed/.exec(item.error)![1];
    const storage = s3.storage();
    assert.equal(await storage.stat(key), undefined, `no object under ${key}`);
    assert.deepEqual(await storage.openUploads(), [], 'no multipart upload left open');
  });
});
