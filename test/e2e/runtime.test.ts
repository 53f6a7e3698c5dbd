/**
 * The paths each Node takes (docs/benchmarks.md, "Node"): zstd through the binary, else inside
 * node:zlib from 22.15 (one thread: Node's threaded zstd stream fails), else gzip; the compile
 * cache from 22.8. `pnpm test` runs under Node 20 and again under the current LTS in CI, so each
 * assertion below is checked on both sides of those versions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { json, standIns, withData } from '../lib/batt.js';

const [major, minor] = process.versions.node.split('.').map(Number);
const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);

describe('what this Node gives batt', () => {
  // Several MiB that do not compress away: a pipe feeds the compressor many 64 KiB chunks (the case Node's threaded zstd fails).
  const noise = Buffer.from(Buffer.alloc(6 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24));
  const { box, data } = withData({ 'a.txt': 'alpha\n'.repeat(10_000), 'b.bin': noise.toString('latin1') });
  const withoutZstd = (): Record<string, string> => ({ PATH: standIns(join(box.dir, 'bin-without-zstd'), { zstd: '' }, ['tar', 'gzip']) });
  const nodeLine = async (env?: Record<string, string>): Promise<string> => {
    const r = await box.batt(['doctor', '--json'], env ? { env } : {});
    const line = json<{ check: string; detail: string }[]>(r).find((l) => l.check === 'node');
    assert.ok(line, r.stdout);
    return line.detail;
  };
  after(() => box.cleanup());

  it(`doctor names the path this Node (${process.version}) takes: zstd through the binary, else ${atLeast(22, 15) ? 'in-process' : 'gzip'}; ${atLeast(22, 8) ? 'a' : 'no'} compile cache`, async () => {
    const detail = await nodeLine();
    assert.match(detail, new RegExp(`^${process.version.replace(/\./g, '\\.')}: `));
    assert.match(
      detail,
      atLeast(22, 15) ? /zstd through the zstd binary \(-T0; in-process without it\)/ : /zstd through the zstd binary \(-T0; no in-process zstd before Node 22\.15\)/,
    );
    if (atLeast(22, 8)) assert.ok(detail.includes(`compile cache in ${join(box.dir, '.node-compile-cache')}`), detail);
    else assert.match(detail, /no compile cache/);
    assert.match(await nodeLine(withoutZstd()), atLeast(22, 15) ? /zstd in-process \(node:zlib, one thread/ : /no zstd: gzip instead/);
  });

  it(`without the zstd binary, ${atLeast(22, 15) ? "Node's own zstd writes a file the binary reads" : 'gzip is used'}`, async () => {
    const run = json(await box.batt(['--file', data, '--json'], { env: withoutZstd() }));
    assert.equal(run.status, 'ok', JSON.stringify(run));
    const file = json(await box.batt(['show', String(run.id), '--json'])).items[0].file;
    if (!atLeast(22, 15)) return assert.match(file, /\.tar\.gz$/);
    assert.match(file, /\.tar\.zst$/);
    const tar = spawnSync('zstd', ['-d', '-c', file], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(tar.status, 0, String(tar.stderr));
    assert.match(spawnSync('tar', ['-tf', '-'], { input: tar.stdout }).stdout.toString(), /b\.bin/);
    assert.equal((await box.batt(['verify', String(run.id)])).exitCode, 0);
  });

  it("the zstd this Node writes (at level 19) is one the zstd binary reads, and batt's restore reads it back", async () => {
    const run = json(await box.batt(['--file', data, '--compression-level', '19', '--json']));
    assert.equal(run.status, 'ok');
    const item = json(await box.batt(['show', String(run.id), '--json'])).items[0];
    assert.match(item.file, /\.tar\.zst$/);
    const tar = spawnSync('zstd', ['-d', '-c', item.file], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(tar.status, 0, String(tar.stderr));
    const listed = spawnSync('tar', ['-tf', '-'], { input: tar.stdout }).stdout.toString();
    assert.match(listed, /a\.txt/);
    assert.match(listed, /b\.bin/);
    const header = spawnSync('zstd', ['-lv', item.file]).stdout.toString();
    assert.match(header, /Decompressed Size|Compressed Size|Ratio/, 'a valid zstd frame');
    const into = join(box.dir, 'restored');
    const restored = await box.batt(['restore', String(run.id), '--to', into]);
    assert.equal(restored.exitCode, 0, restored.stderr);
    assert.equal(readFileSync(join(into, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(10_000));
  });

  it(`the compile cache ${atLeast(22, 8) ? 'is filled on the first run, in the folder NODE_COMPILE_CACHE names' : 'stays off on this Node'}`, () => {
    const dir = join(box.dir, '.node-compile-cache');
    if (atLeast(22, 8)) assert.ok(existsSync(dir) && readdirSync(dir).length > 0, `${dir} holds the cache`);
    else assert.equal(existsSync(dir), false);
  });
});
