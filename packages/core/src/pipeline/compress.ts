/**
 * Compression stage. zstd (the default) runs through Node's zlib where this Node has it
 * (22.15+), else through the `zstd` binary with all cores (-T0), whose input is the dump's own
 * pipe when there is one, so the bytes are not copied through Node on their way. gzip uses zlib.
 */
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Compression } from '../config/schema.js';
import { spawnTool, toolFailure } from '../exec/exec.js';

export interface CompressionStage {
  /** The compressed bytes. */
  output: Readable;
  /** Settles when the compressor is done; rejects if it failed. */
  done: Promise<void>;
  /** Stops the stage early, after a failure elsewhere. */
  abort(): void;
}

/** File suffix per compression. */
export const compressionSuffix: Record<Compression, string> = { zstd: '.zst', gzip: '.gz', none: '' };

type ZstdZlib = { createZstdCompress?: (options?: object) => Transform; constants: Record<string, number> };

/** Node's own zstd, when this Node has one. */
export function nodeZstd(): ZstdZlib['createZstdCompress'] {
  return (zlib as unknown as ZstdZlib).createZstdCompress;
}

function transformStage(source: Readable, transform: Transform): CompressionStage {
  const done = pipeline(source, transform);
  // The consumer reads `transform`; its failure is reported by the consumer's pipeline.
  done.catch(() => {});
  return { output: transform, done, abort: () => transform.destroy() };
}

export async function compressStage(
  source: Readable,
  compression: Compression,
  level: number | undefined,
  signal: AbortSignal,
): Promise<CompressionStage> {
  if (compression === 'none') return { output: source, done: Promise.resolve(), abort: () => source.destroy() };
  if (compression === 'gzip') return transformStage(source, zlib.createGzip({ level: level ?? 6, chunkSize: 256 * 1024 }));
  const create = nodeZstd();
  if (create) {
    const c = (zlib as unknown as ZstdZlib).constants;
    const params: Record<number, number> = { [c.ZSTD_c_compressionLevel]: level ?? 3 };
    try {
      return transformStage(source, create({ params: { ...params, [c.ZSTD_c_nbWorkers]: availableParallelism() } }));
    } catch {
      return transformStage(source, create({ params }));
    }
  }
  const child = await spawnTool('zstd', [`-${level ?? 3}`, '-T0', '-q', '-c'], { stdin: source, signal });
  const done = child.result.then((result) => {
    if (result.failed) throw toolFailure('zstd', result, 'zstd');
  });
  done.catch(() => {});
  return { output: child.stdout!, done, abort: () => child.kill('SIGKILL') };
}
