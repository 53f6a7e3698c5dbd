/**
 * Compression stage. zstd (the default) runs through the `zstd` binary with all cores (-T0); a
 * dump command then writes straight into zstd's stdin, and zstd writes straight into the
 * backup's temporary file, so neither side's bytes pass through Node (the core hashes the file
 * as it grows). Without the binary, on a Node whose zlib has zstd (22.15+), it runs in-process
 * on one thread: Node's zstd stream fails with threads ("stream.push() after EOF" as soon as a
 * pipe feeds it, nodejs/node#59899, still so in 26.12), and one thread is half the speed of
 * `zstd -T0` on two cores (docs/benchmarks.md, "Node"). A dump known to be small (isSmall, dump.ts) is
 * compressed in-process wherever Node has zstd: for a few MB, starting the binary (and its
 * threads) costs more than one thread spends compressing. gzip uses zlib.
 */
import { closeSync, openSync } from 'node:fs';
import { PassThrough, type Readable, type Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { Compression } from '../config/schema.js';
import { spawnTool, stderrText, toolFailure, which } from '../exec/exec.js';
import { isSmall, unreadFileOf, type Dump } from './dump.js';

export interface CompressionStage {
  /** Where the uncompressed bytes go. */
  input: Writable;
  /** True when `input` is an OS pipe that a child process can take as its stdout. */
  inputIsPipe: boolean;
  /** True when the compressor reads the dump's file itself (`input` is unused). */
  fromFile?: boolean;
  /** The compressed bytes, for the core to write to the file; null when the zstd binary writes it itself. */
  output: Readable | null;
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

/** Where zstd runs here: the binary on PATH, else this Node's zlib, else nowhere. */
export function zstdRunner(env: NodeJS.ProcessEnv = process.env): 'binary' | 'zlib' | undefined {
  if (which('zstd', env)) return 'binary';
  return nodeZstd() ? 'zlib' : undefined;
}

/** True when zstd can run here: the binary on PATH, or Node's own. */
export function zstdAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return zstdRunner(env) !== undefined;
}

function inProcess(transform: Transform): CompressionStage {
  // finished() also settles when the transform is destroyed (a failure elsewhere, an interrupt);
  // waiting for 'end' alone would wait forever then.
  const done = finished(transform);
  done.catch(() => {});
  return { input: transform, inputIsPipe: false, output: transform, done, abort: () => transform.destroy() };
}

/** zstd's complaint about its output as the system error it stands for, so a full disk reads as one. */
function outputError(stderr: string): NodeJS.ErrnoException | undefined {
  const causes: [RegExp, string][] = [
    [/No space left on device/i, 'ENOSPC'],
    [/Disk quota exceeded/i, 'EDQUOT'],
    [/Read-only file system/i, 'EROFS'],
    [/Input\/output error/i, 'EIO'],
  ];
  const found = causes.find(([pattern]) => pattern.test(stderr));
  if (!found) return undefined;
  const error: NodeJS.ErrnoException = new Error(`${found[1]}: ${stderr.match(found[0])![0].toLowerCase()}, write`);
  error.code = found[1];
  error.syscall = 'write';
  return error;
}

/**
 * Starts the compressor for `dump`. A dump that is a finished file nobody has read (a Redis RDB,
 * say) the zstd binary reads itself; `input` is unused and `fromFile` is set. A dump that says it
 * is small (isSmall) goes through Node's zstd wherever there is one. `outputFd`: the file the
 * zstd binary writes into itself (`output` is then null); in-process compressors leave it alone.
 * Without one (the bytes are encrypted next), the zstd binary's output is a stream too.
 */
export async function compressStage(
  compression: Compression,
  level: number | undefined,
  signal: AbortSignal,
  outputFd: number | undefined,
  dump?: Dump,
): Promise<CompressionStage> {
  if (compression === 'none') return inProcess(new PassThrough({ highWaterMark: 1024 * 1024 }));
  if (compression === 'gzip') return inProcess(zlib.createGzip({ level: level ?? 6, chunkSize: 256 * 1024 }));
  const create = nodeZstd();
  if (create && ((dump && isSmall(dump)) || zstdRunner() === 'zlib')) {
    const c = (zlib as unknown as ZstdZlib).constants;
    return inProcess(create({ params: { [c.ZSTD_c_compressionLevel]: level ?? 3 }, chunkSize: 256 * 1024 }));
  }
  const inputFile = dump && unreadFileOf(dump);
  const fd = inputFile ? openSync(inputFile, 'r') : undefined;
  try {
    const child = await spawnTool('zstd', [`-${level ?? 3}`, '-T0', '-q', '-c'], { stdin: fd ?? 'pipe', stdout: outputFd ?? 'pipe', signal, debianPackage: 'zstd' });
    // A missing zstd: no stdin to write into (reading a file, its result says ENOENT instead).
    if (fd === undefined && !child.stdin) throw toolFailure('zstd', await child.result, 'zstd');
    const done = child.result.then((result) => {
      if (result.failed) throw outputError(stderrText(result)) ?? toolFailure('zstd', result, 'zstd');
    });
    done.catch(() => {});
    const input = fd === undefined ? child.stdin! : new PassThrough();
    return { input, inputIsPipe: fd === undefined, fromFile: fd !== undefined, output: outputFd === undefined ? child.stdout : null, done, abort: () => child.kill('SIGKILL') };
  } finally {
    if (fd !== undefined) closeSync(fd); // the child has its own copy
  }
}
