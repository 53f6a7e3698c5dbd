/**
 * The one place a backup becomes a file: the plugin's stream is compressed, hashed and written
 * to a temporary name in one pass, then fsynced and placed under its final name. If the dump,
 * the compressor or the disk fails, the temporary file is removed and nothing is placed.
 */
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Compression } from '../config/schema.js';
import { makePrivateDir } from '../home/home.js';
import { discardTemp, finishTemp, openTemp, placeFile } from './atomic-file.js';
import { compressStage, compressionSuffix } from './compress.js';
import { HashingFileSink } from './hashing-file-sink.js';

export interface ArtifactRequest {
  source: Readable;
  /** Settles when the producer of `source` is done; a rejection fails the artifact. */
  sourceDone: Promise<unknown>;
  dir: string;
  /** Final name without suffixes, e.g. `var_www`. */
  base: string;
  /** Uncompressed suffix, e.g. `.tar`. */
  ext: string;
  compression: Compression;
  level?: number;
  /** Added to the name when `base+ext` already exists (the run id). */
  uniqueSuffix: string;
  signal: AbortSignal;
}

export interface Artifact {
  path: string;
  bytes: number;
  sha256: string;
}

export async function writeArtifact(request: ArtifactRequest): Promise<Artifact> {
  makePrivateDir(request.dir);
  const temp = await openTemp(request.dir);
  const sink = new HashingFileSink(temp.fd);
  let stage: Awaited<ReturnType<typeof compressStage>> | undefined;
  try {
    stage = await compressStage(request.source, request.compression, request.level, request.signal);
    await Promise.all([pipeline(stage.output, sink), stage.done, request.sourceDone]);
    await finishTemp(temp);
    const name = await placeFile(temp.path, request.dir, request.base, request.ext + compressionSuffix[request.compression], request.uniqueSuffix);
    return { path: join(request.dir, name), bytes: sink.bytes, sha256: sink.digest() };
  } catch (error) {
    stage?.abort();
    request.source.destroy();
    sink.destroy();
    await Promise.allSettled([stage?.done, request.sourceDone]);
    await discardTemp(temp);
    throw error;
  }
}
