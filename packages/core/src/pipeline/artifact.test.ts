import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { after, describe, it } from 'node:test';
import type { Compression } from '../config/schema.js';
import { LocalStorage } from '../storage/local.js';
import { writeArtifact } from './artifact.js';
import { compressStage } from './compress.js';
import { isSmall, smallDump } from './dump.js';

const dir = mkdtempSync(join(tmpdir(), 'batt-artifact-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 8 MiB that compress a little: each 1 KiB block differs. */
const data = Buffer.concat(
  Array.from({ length: 8192 }, (_, i) => createHash('sha256').update(String(i)).digest().subarray(0, 16).toString('hex').repeat(32)).map((s) => Buffer.from(s)),
);

describe('dump → compress → hash → store', () => {
  for (const compression of ['none', 'gzip', 'zstd'] as Compression[]) {
    it(`${compression}: the placed file's SHA-256 and size are the ones reported, and the bytes so far grow to them`, async () => {
      const seen: number[] = [];
      const artifact = await writeArtifact({
        dump: { stream: Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)]), done: Promise.resolve({ facts: { rows: 3 } }) },
        dir: join(dir, compression),
        base: 'db',
        ext: '.sql',
        compression,
        uniqueSuffix: 'run1',
        signal: new AbortController().signal,
        onBytes: (bytes) => seen.push(bytes),
      });
      const written = readFileSync(artifact.path);
      assert.equal(artifact.bytes, written.length);
      assert.equal(artifact.sha256, createHash('sha256').update(written).digest('hex'));
      assert.deepEqual(artifact.facts, { facts: { rows: 3 } });
      assert.ok(seen.length > 0, 'progress was reported');
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        'bytes so far never go back',
      );
      assert.equal(seen.at(-1), artifact.bytes);
      assert.deepEqual(readdirSync(join(dir, compression)), [`db.sql${{ none: '', gzip: '.gz', zstd: '.zst' }[compression]}`]);
    });
  }

  it('a dump judged incomplete places nothing and leaves no temporary file', async () => {
    const folder = join(dir, 'failed');
    await assert.rejects(
      writeArtifact({
        dump: { stream: Readable.from([data]), done: Promise.reject(new Error('the trailer is missing')) },
        dir: folder,
        base: 'db',
        ext: '.sql',
        compression: 'zstd',
        uniqueSuffix: 'run2',
        signal: new AbortController().signal,
      }),
      /the trailer is missing/,
    );
    assert.deepEqual(readdirSync(folder), []);
  });

  describe('keep_local: false (into a storage)', () => {
    const remoteDir = join(dir, 'remote');
    mkdirSync(remoteDir, { recursive: true });
    const remote = { name: 'other folder', storage: new LocalStorage(), keyFor: (file: string) => join(remoteDir, basename(file)) };

    it('the object holds the bytes hashed, and no local file is written', async () => {
      const artifact = await writeArtifact({
        dump: { stream: Readable.from([data]), done: Promise.resolve({ facts: { rows: 1 } }) },
        dir: join(dir, 'never'),
        base: 'db',
        ext: '.sql',
        compression: 'zstd',
        uniqueSuffix: 'run3',
        signal: new AbortController().signal,
        remote,
      });
      assert.equal(artifact.path, join(dir, 'never', 'db.sql.zst'));
      assert.equal(artifact.key, join(remoteDir, 'db.sql.zst'));
      const stored = readFileSync(artifact.key);
      assert.equal(artifact.bytes, stored.length);
      assert.equal(artifact.sha256, createHash('sha256').update(stored).digest('hex'));
      assert.equal(existsSync(join(dir, 'never')), false, 'nothing local');
    });

    it('a dump judged incomplete after its last byte leaves no object: the put never saw its end', async () => {
      const before = readdirSync(remoteDir);
      await assert.rejects(
        writeArtifact({
          dump: { stream: Readable.from([data]), done: new Promise((_, reject) => setTimeout(() => reject(new Error('the trailer is missing')), 200)) },
          dir: join(dir, 'never'),
          base: 'db2',
          ext: '.sql',
          compression: 'gzip',
          uniqueSuffix: 'run4',
          signal: new AbortController().signal,
          remote,
        }),
        /the trailer is missing/,
      );
      assert.deepEqual(readdirSync(remoteDir), before);
    });
  });
});

describe('where zstd runs', () => {
  const nodeZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
  for (const small of [false, true]) {
    const where = small && nodeZstd ? "in Node's zlib, handing its output on" : `the zstd binary${small ? ' (this Node has no zstd)' : ''}, writing the file itself`;
    it(`${small ? 'a small dump' : 'a dump of unknown or large size'}: ${where}`, async () => {
      const file = join(dir, `where-${small}.zst`);
      const fd = openSync(file, 'w');
      try {
        const dump = { command: 'true', args: [], finish: () => ({}), expectedBytes: small ? 1000 : undefined };
        const stage = await compressStage('zstd', 3, new AbortController().signal, fd, dump);
        // The binary writes into the file itself (no output stream); Node's zstd hands its output on.
        assert.equal(stage.output === null, !(small && nodeZstd));
        stage.output?.resume();
        stage.input.end(data.subarray(0, 1000));
        await stage.done;
      } finally {
        closeSync(fd);
      }
    });
  }
  it('a dump command is small below smallDump bytes expected, and only when it says so', () => {
    const command = { command: 'true', args: [], finish: () => ({}) };
    assert.equal(isSmall({ ...command, expectedBytes: smallDump - 1 }), true);
    assert.equal(isSmall({ ...command, expectedBytes: smallDump }), false);
    assert.equal(isSmall(command), false);
    assert.equal(isSmall({ stream: Readable.from([]), done: Promise.resolve({}) }), false);
  });
});
