/**
 * The paths each Node takes (docs/benchmarks.md, "Node"): zstd inside node:zlib from 22.15, else
 * the zstd binary; the compile cache from 22.8. `pnpm test` runs under Node 20 and again under the
 * current LTS in CI, so each assertion below is checked on both sides of those versions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { json, withData } from '../lib/batt.js';

const [major, minor] = process.versions.node.split('.').map(Number);
const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);

describe('what this Node gives batt', () => {
  const { box, data } = withData({ 'a.txt': 'alpha\n'.repeat(10_000), 'b.bin': 'x'.repeat(300_000) });
  after(() => box.cleanup());

  it(`doctor names the path this Node (${process.version}) takes: zstd ${atLeast(22, 15) ? 'in-process' : 'through the binary'}, ${atLeast(22, 8) ? 'a' : 'no'} compile cache`, async () => {
    const r = await box.batt(['doctor', '--json']);
    const line = json<{ check: string; detail: string }[]>(r).find((l) => l.check === 'node');
    assert.ok(line, r.stdout);
    assert.match(line.detail, new RegExp(`^${process.version.replace(/\./g, '\\.')}: `));
    if (atLeast(22, 15)) assert.match(line.detail, /zstd in-process \(node:zlib\)/);
    else assert.match(line.detail, /zstd through the zstd binary/);
    if (atLeast(22, 8)) assert.ok(line.detail.includes(`compile cache in ${join(box.dir, '.node-compile-cache')}`), line.detail);
    else assert.match(line.detail, /no compile cache/);
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
    assert.ok(readFileSync(item.file).length < 20_000, 'compressed: 360 kB of repeated text is far smaller');
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
