// The benchmarks' deterministic data: a seeded random sequence, and blocks of text-like words
// (compress ~3x, as dumps and configs do) with one block in five incompressible (as images and
// archives are). Each script takes its own sequence; the same calls give the same bytes.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function benchData() {
  let seed = 42;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const words = Array.from({ length: 4096 }, (_, i) =>
    createHash('md5')
      .update(String(i))
      .digest('base64url')
      .slice(0, 3 + (i % 9)),
  );
  function block(size) {
    if (rand() < 0.2) {
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i += 32) createHash('sha256').update(String(rand())).digest().copy(out, i);
      return out;
    }
    const parts = [];
    let n = 0;
    while (n < size) {
      const w = words[Math.floor(rand() * words.length)] + (rand() < 0.1 ? '\n' : ' ');
      parts.push(w);
      n += w.length;
    }
    return Buffer.from(parts.join('').slice(0, size));
  }
  return { rand, block };
}

/** The big file: `slices` slices of 4 MiB of `pool` (125: 500 MiB) at offsets drawn from `rand`. */
export function writeBigFile(path, pool, rand, slices = 125) {
  const fd = openSync(path, 'w');
  for (let i = 0; i < slices; i++) {
    const offset = Math.floor(rand() * (pool.length - 4 * 1024 * 1024));
    writeSync(fd, pool.subarray(offset, offset + 4 * 1024 * 1024));
  }
  closeSync(fd);
}

/**
 * The folder and the big file test/bench/run.mjs and offsite.mjs use, made once under `work` and
 * reused. Full: a 96 MiB pool, 160 folders of 256 files (40,960 files, ~450 MB), a 500 MiB file.
 * Quick (under `work`/quick): a 32 MiB pool, 16 folders (4,096 files, ~45 MB), a 100 MiB file.
 * The random sequence runs pool, folder (one draw per file), big file, whichever of them is made
 * in a process, so every script makes the same bytes. Call tree() before big() in one process.
 */
export function benchSet(work, { quick = false } = {}) {
  const size = quick ? { poolMiB: 32, dirs: 16, bigMiB: 100 } : { poolMiB: 96, dirs: 160, bigMiB: 500 };
  const dir = quick ? join(work, 'quick') : work;
  mkdirSync(dir, { recursive: true });
  const treeDir = join(dir, 'tree');
  const bigFile = join(dir, 'big.bin');
  let data;
  let treeDrawn = false;
  const pool = () => {
    if (!data) {
      const { rand, block } = benchData();
      data = { rand, pool: Buffer.concat(Array.from({ length: size.poolMiB }, () => block(1024 * 1024))) };
    }
    return data;
  };
  // Version 2: small files of 1 to 14 kB (they were up to 17 kB: ~510 MB in all, over issue 19's 350-500 MB).
  const TREE_VERSION = '2';
  function tree() {
    const done = join(treeDir, '.done');
    if (existsSync(done) && readFileSync(done, 'utf8') === TREE_VERSION) return treeDir;
    console.error(`generating the folder: ${(size.dirs * 256).toLocaleString('en')} files under ${treeDir} ...`);
    rmSync(treeDir, { recursive: true, force: true });
    const { rand, pool: bytes } = pool();
    let n = 0;
    for (let d = 0; d < size.dirs; d++) {
      const sub = join(treeDir, `d${d}`, `sub${d % 7}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 256; f++, n++) {
        const fileSize = f % 64 === 0 ? 200_000 + (n % 7) * 10_000 : 1000 + ((n * 7919) % 13000);
        const offset = Math.floor(rand() * (bytes.length - fileSize));
        writeFileSync(join(sub, `f${f}.dat`), bytes.subarray(offset, offset + fileSize));
      }
    }
    treeDrawn = true;
    writeFileSync(done, TREE_VERSION);
    return treeDir;
  }
  function big() {
    if (existsSync(bigFile)) return bigFile;
    console.error(`generating a ${size.bigMiB} MiB file ${bigFile} ...`);
    const { rand, pool: bytes } = pool();
    if (!treeDrawn) for (let n = 0; n < size.dirs * 256; n++) rand(); // the folder takes one draw per file
    writeBigFile(`${bigFile}.tmp`, bytes, rand, size.bigMiB / 4);
    renameSync(`${bigFile}.tmp`, bigFile);
    return bigFile;
  }
  return { tree, big, bigMiB: size.bigMiB, files: size.dirs * 256 };
}
