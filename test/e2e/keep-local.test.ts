/**
 * `keep_local: false`: artifacts streamed straight to the first storage (a real S3-compatible
 * server, s3rver on loopback), hashed in the same pass, with no local copy.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Storage } from '@batt/core/storage/s3';
import { catalogIsWhole, battBin, json, logLines, sandbox, type Sandbox } from '../lib/batt.js';
import { keysIn, s3StorageYaml, startS3, type S3Server } from '../lib/s3.js';

const conf = (box: Sandbox): string => join(box.home, 'conf', 'batt.config.yaml');

/** A sandbox whose built-in services send their artifacts straight to `s3`. */
function remoteBox(s3: S3Server, prefix: string): Sandbox {
  const box = sandbox();
  appendFileSync(conf(box), ['keep_local: false', 'storage:', ...s3StorageYaml(s3, box.dir, 'offsite', { prefix: `"${prefix}"` }), ''].join('\n'));
  return box;
}

async function sha256Of(storage: S3Storage, key: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of storage.get(key)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('keep_local: false', () => {
  let s3: S3Server;
  let storage: S3Storage;
  const objects = (prefix: string): Promise<string[]> => keysIn(storage, prefix);
  before(async () => {
    s3 = await startS3();
    storage = s3.storage();
  });
  after(async () => {
    await s3.stop();
  });

  it('the artifact goes to the bucket only, with the SHA-256 of its bytes; restore and verify fetch it and leave no file; prune deletes it', async () => {
    const box = remoteBox(s3, 'plain/');
    try {
      const data = box.folder('data', { 'a.txt': 'alpha\n'.repeat(5000), 'b.bin': randomBytes(300_000).toString('base64') });
      const run = json(await box.batt(['--file', data, '--json']));
      assert.equal(run.status, 'ok');
      const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
      assert.equal(existsSync(item.file), false, `no local artifact at ${item.file}`);
      assert.equal(item.local, false);
      assert.equal(item.copies.length, 1);
      const [copy] = item.copies;
      assert.equal(copy.storage, 'offsite');
      assert.equal(copy.sha256, item.sha256);
      assert.equal(copy.bytes, item.bytes);
      assert.equal(await sha256Of(storage, copy.key), item.sha256, "the catalog's SHA-256 is the object's");
      const keys = await objects('plain/');
      assert.ok(keys.includes(copy.key), `${copy.key} in ${keys.join(', ')}`);
      assert.ok(keys.some((k) => k.endsWith(`/batt-run-${run.id}.json`)) && keys.some((k) => k.endsWith('/SHA256SUMS')), 'manifest and SHA256SUMS copied');
      assert.deepEqual(await storage.openUploads(), []);
      // Its folder keeps the manifest and a SHA256SUMS line for the artifact (what the bucket's copy says).
      const sums = readFileSync(join(item.file, '..', 'SHA256SUMS'), 'utf8');
      assert.ok(sums.includes(item.sha256), 'SHA256SUMS names the artifact');

      const to = join(box.dir, 'restored');
      const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(5000));
      assert.equal(existsSync(item.file), false, 'the fetched artifact is removed again');

      const v = await box.batt(['verify', String(run.id), '--restore-test']);
      assert.equal(v.exitCode, 0, v.stderr + v.stdout);
      assert.equal(existsSync(item.file), false, 'verify leaves no artifact either');
      await catalogIsWhole(box);

      // A second run into the same folder keeps the first one's SHA256SUMS line.
      const second = json(await box.batt(['--file', data, '--json']));
      assert.equal(second.status, 'ok');
      assert.ok(readFileSync(join(item.file, '..', 'SHA256SUMS'), 'utf8').includes(`${item.sha256}  ${basename(item.file)}`), "the first run's line stays");
      const p = await box.batt(['prune', '--keep-last', '1']);
      assert.equal(p.exitCode, 0, p.stderr);
      assert.equal((await objects('plain/')).includes(copy.key), false, `${copy.key} is gone from the bucket`);
      const lines = readFileSync(join(item.file, '..', 'SHA256SUMS'), 'utf8').split('\n');
      assert.equal(lines.filter((l) => l.endsWith(`  ${basename(item.file)}`)).length, 0, `its line is gone: ${lines.join(' | ')}`);
    } finally {
      box.cleanup();
    }
  });

  it('the server going away mid-stream fails the item and leaves no object, no open upload and no copy', async () => {
    const box = remoteBox(s3, 'cut/');
    let halted = false;
    try {
      const data = join(box.dir, 'big');
      mkdirSync(data);
      writeFileSync(join(data, 'random.bin'), randomBytes(40 * 1024 * 1024)); // incompressible: 5 parts
      s3.onResponse = (method, url, status) => {
        if (halted || method !== 'PUT' || !url.includes('partNumber=') || status !== 200) return;
        halted = true;
        // Back while batt aborts the failed upload (it retries: 1 s, 2 s, 4 s…).
        void s3.halt().then(() => setTimeout(() => void s3.resume(), 2500));
      };
      const result = await box.batt(['--file', data, '--json']);
      assert.ok(halted, 'the server was halted after the first part');
      assert.notEqual(result.exitCode, 0);
      const run = json(result);
      assert.equal(run.status, 'failed');
      const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
      assert.equal(item.status, 'failed');
      assert.match(item.error, /cannot reach|offsite/);
      assert.deepEqual(item.copies, []);
      assert.equal(item.file, null);
      assert.deepEqual(await objects('cut/'), [], 'no object');
      assert.deepEqual(await storage.openUploads(), [], 'no open multipart upload');
    } finally {
      s3.onResponse = undefined;
      await s3.resume();
      box.cleanup();
    }
  });

  it('without a storage, the run stops before any dump', async () => {
    const box = sandbox();
    try {
      appendFileSync(conf(box), 'keep_local: false\n');
      const data = box.folder('data', { 'a.txt': 'alpha\n' });
      const r = await box.batt(['--file', data]);
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /keep_local is false, but no storage/);
      assert.equal(existsSync(box.out), false, 'nothing was dumped');
    } finally {
      box.cleanup();
    }
  });

  it('a batt killed in the middle of a multipart upload leaves it open; the next run aborts it', async () => {
    const box = remoteBox(s3, 'killed/');
    try {
      const data = box.folder('data', { 'big.bin': randomBytes(24 * 1024 * 1024).toString('binary') });
      let halted: Promise<void> | undefined;
      s3.onResponse = (method, url, status) => {
        if (method === 'PUT' && /[?&]partNumber=\d+/.test(url) && status === 200) halted ??= s3.halt();
      };
      const run = execa(process.execPath, [battBin, '--home', box.home, '--file', data], { reject: false, extendEnv: false, env: box.env() });
      const pending = join(box.home, 'pending');
      for (let waited = 0; !(existsSync(pending) && readdirSync(pending).some((n) => n.endsWith('.json'))) || !halted; waited += 50) {
        assert.ok(waited < 60_000, 'the upload started and the server went away');
        await sleep(50);
      }
      run.kill('SIGKILL');
      await run;
      s3.onResponse = undefined;
      await halted;
      await s3.resume();
      const open = (await storage.openUploads()).filter((k) => k.startsWith('killed/'));
      assert.equal(open.length, 1, 'the killed upload is still open');
      const next = await box.batt(['--file', box.folder('small', { 'a.txt': 'alpha\n' }), '--json']);
      assert.equal(next.exitCode, 0, next.stderr);
      assert.deepEqual(
        (await storage.openUploads()).filter((k) => k.startsWith('killed/')),
        [],
        'the next run aborted it',
      );
      assert.deepEqual(readdirSync(pending), [], 'and forgot its note');
      assert.match(logLines(box).join('\n'), new RegExp(`removed offsite: .*${open[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*a killed run left it unfinished`));
    } finally {
      s3.onResponse = undefined;
      box.cleanup();
    }
  });
});
