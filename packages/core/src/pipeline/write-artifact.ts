/**
 * The one place a backup becomes a file: the dump is compressed, hashed and written to a
 * temporary name in one pass, then fsynced and placed under its final name. If the dump, the
 * compressor or the disk fails, the temporary file is removed and nothing is placed.
 */
import { ReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../config/schema.js';
import { BattError, fromSystemError } from '../errors/errors.js';
import { spawnTool, toolFailure, type ToolResult } from '../exec/exec.js';
import { makeTrustedDir } from '../home/home.js';
import type { BackupCommand, BackupStream, ItemFacts } from '../plugins/types.js';
import { discardTemp, finishTemp, openTemp, placeFile } from './atomic-file.js';
import { compressStage, compressionSuffix, type CompressionStage } from './compress.js';
import { hashGrowingFile, HashingFileSink } from './hashing-file-sink.js';

export interface ArtifactRequest {
  /** The plugin's dump: a stream it produced, or a command for the core to run. */
  dump: BackupStream | BackupCommand;
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
  facts: ItemFacts;
}

/** Connects the dump to the compressor; resolves with the dump's facts once it is judged whole. */
async function feed(dump: BackupStream | BackupCommand, stage: CompressionStage, signal: AbortSignal): Promise<{ done: Promise<ItemFacts>; stop(): void }> {
  if ('stream' in dump) {
    if (stage.fromFile) {
      dump.stream.destroy(); // the compressor reads the file itself
      return { done: dump.done, stop: () => {} };
    }
    const piped = pipeline(dump.stream, stage.input);
    const done = Promise.all([piped, dump.done]).then(([, facts]) => facts);
    return { done, stop: () => dump.stream.destroy() };
  }
  // A command writes straight into the compressor's pipe when it has one, unless the plugin
  // must see its bytes (a trailer, row counts), and then they pass through Node.
  const direct = stage.inputIsPipe && !dump.through;
  const child = await spawnTool(dump.command, dump.args, {
    env: dump.env,
    cwd: dump.cwd,
    signal,
    debianPackage: dump.debianPackage,
    stdout: direct ? stage.input : 'pipe',
    bufferOutput: true,
  });
  let piped: Promise<void> = Promise.resolve();
  if (direct)
    stage.input.destroy(); // the child holds its own copy; ours would keep EOF away
  else if (child.stdout) piped = dump.through ? pipeline(child.stdout, dump.through, stage.input) : pipeline(child.stdout, stage.input);
  else stage.input.end();
  const done = Promise.all([child.result, piped]).then(async ([result]) => {
    if (result.code === 'ENOENT') throw toolFailure(dump.command, result, dump.debianPackage);
    return dump.finish(result);
  });
  return { done, stop: () => child.kill('SIGKILL') };
}

/** A failure caused by another stage failing: a broken pipe, or being stopped by batt. */
function isEcho(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return true;
  const signal = (error as { cause?: ToolResult } | undefined)?.cause?.signal;
  return signal === 'SIGPIPE' || signal === 'SIGKILL';
}

/**
 * Waits for the three stages. When one fails the others are stopped, and the error reported is
 * the cause, not its echo: a full disk before a compressor killed by the broken pipe, and a
 * compressor that failed before a dump killed by SIGPIPE.
 */
async function settle(written: Promise<unknown>, stage: CompressionStage, source: Awaited<ReturnType<typeof feed>>): Promise<ItemFacts> {
  const all = [written, stage.done, source.done] as const;
  try {
    const [, , facts] = await Promise.all(all);
    return facts;
  } catch (first) {
    source.stop();
    stage.abort();
    const results = await Promise.allSettled(all);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    throw failures.find((error) => !isEcho(error)) ?? first;
  }
}

/** The path of a dump that is a file nobody has read from yet (fs.createReadStream). */
function unreadFileOf(dump: BackupStream | BackupCommand): string | undefined {
  if (!('stream' in dump) || !(dump.stream instanceof ReadStream)) return undefined;
  const { path, bytesRead, start } = dump.stream as ReadStream & { start?: number };
  return typeof path === 'string' && bytesRead === 0 && !start && !dump.stream.readableFlowing ? path : undefined;
}

async function disposeOf(dump: BackupStream | BackupCommand): Promise<void> {
  try {
    await dump.dispose?.();
  } catch {
    // Best effort: a leftover temporary file must not turn a good backup into a failed one.
  }
}

export async function writeArtifact(request: ArtifactRequest): Promise<Artifact> {
  let temp: Awaited<ReturnType<typeof openTemp>>;
  try {
    makeTrustedDir(request.dir);
    temp = await openTemp(request.dir);
  } catch (error) {
    await disposeOf(request.dump);
    throw fromSystemError(error, `cannot create the backup folder ${request.dir}`);
  }
  let sink: HashingFileSink | undefined;
  let stage: CompressionStage | undefined;
  let source: Awaited<ReturnType<typeof feed>> | undefined;
  try {
    stage = await compressStage(request.compression, request.level, request.signal, temp.fd, unreadFileOf(request.dump));
    source = await feed(request.dump, stage, request.signal);
    let hashed: Promise<{ bytes: number; sha256: string }>;
    if (stage.output) {
      const into = (sink = new HashingFileSink(temp.fd));
      hashed = pipeline(stage.output, into).then(() => ({ bytes: into.bytes, sha256: into.digest() }));
    } else hashed = hashGrowingFile(temp.path, stage.done); // the zstd binary writes the file itself
    const facts = await settle(hashed, stage, source); // the cause of a failure, not its echo
    const { bytes, sha256 } = await hashed;
    // An interrupted run places nothing, whatever finished meanwhile.
    if (request.signal.aborted) throw request.signal.reason ?? new BattError('INTERRUPTED', 'interrupted');
    await finishTemp(temp);
    const name = await placeFile(temp.path, request.dir, request.base, request.ext + compressionSuffix[request.compression], request.uniqueSuffix);
    await disposeOf(request.dump);
    return { path: join(request.dir, name), bytes, sha256, facts };
  } catch (error) {
    source?.stop();
    stage?.abort();
    sink?.destroy();
    await Promise.allSettled([stage?.done, source?.done, sink?.idle()]);
    await discardTemp(temp);
    await disposeOf(request.dump);
    // System errors (ENOSPC, EACCES, EIO) get a message that names the folder and the fix.
    throw (error as NodeJS.ErrnoException)?.syscall ? fromSystemError(error, `cannot write the backup in ${request.dir}`) : error;
  }
}
