// The benchmarks' deterministic data: a seeded random sequence, and blocks of text-like words
// (compress ~3x, as dumps and configs do) with one block in five incompressible (as images and
// archives are). Each script takes its own sequence; the same calls give the same bytes.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

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

/** The 500 MiB file: 125 slices of 4 MiB of `pool` at offsets drawn from `rand`. */
export function writeBigFile(path, pool, rand) {
  const fd = openSync(path, 'w');
  for (let i = 0; i < 125; i++) {
    const offset = Math.floor(rand() * (pool.length - 4 * 1024 * 1024));
    writeSync(fd, pool.subarray(offset, offset + 4 * 1024 * 1024));
  }
  closeSync(fd);
}
