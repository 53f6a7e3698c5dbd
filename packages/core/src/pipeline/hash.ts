/**
 * Hash stage: SHA-256 and size of the compressed bytes, computed as they are written.
 * With `keep_local: false` the bytes go to a storage's put instead of a file: they are hashed
 * on the way (HashingPassThrough), and the stream ends only once every other stage succeeded.
 *
 * The end of every backup stream is a Writable that hashes with SHA-256 and writes to an open
 * file in the same pass. Pipes deliver 64 KiB chunks; they are hashed as they come and written
 * in batches of at least 1 MiB with one writev, so there are few syscalls and no copying.
 * Memory stays at about one batch, whatever the size of the dump.
 *
 * Longer than 200 lines because every way batt hashes (into a file, into a storage's put, a file
 * still growing, a stored object) must give the same answer, and reads best side by side.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, fdatasync, writev } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '../storage/storage.js';
import type { CompressionStage } from './compress.js';

const datasyncFd = promisify(fdatasync);

/** Read and write size for backup data: 64 KiB reads are measured to halve throughput here. */
export const BLOCK_SIZE = 1024 * 1024;

/**
 * A file being written is sent to the disk every 8 MiB (fdatasync, one at a time, beside the
 * writing), so the fsync that must come before it gets its final name has little left to do:
 * measured 35 ms -> 1 ms for a 93 MiB backup.
 */
const FLUSH_EVERY = 8 * BLOCK_SIZE;

/** Starts a datasync every FLUSH_EVERY bytes written, one at a time, and keeps the first error. */
class DiskFlusher {
  error: Error | undefined;
  private running: Promise<void> | undefined;
  private at = 0;

  constructor(private readonly sync: () => Promise<void>) {}

  /** `bytes` have been written so far. */
  written(bytes: number): void {
    if (this.running || bytes - this.at < FLUSH_EVERY) return;
    this.at = bytes;
    this.running = this.sync()
      .catch((error: Error) => void (this.error ??= error))
      .finally(() => (this.running = undefined));
  }

  /** Settles once no datasync runs: wait for it before the file is closed. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

function writeAll(fd: number, buffers: Buffer[], callback: (error?: Error | null) => void): void {
  writev(fd, buffers, (error, written) => {
    if (error) return callback(error);
    let rest = written;
    while (buffers.length && rest >= buffers[0].length) rest -= buffers.shift()!.length;
    if (buffers.length === 0) return callback();
    buffers[0] = buffers[0].subarray(rest);
    writeAll(fd, buffers, callback);
  });
}

export class HashingFileSink extends Writable {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Its datasyncs share the fd with the final fsync, which then may not see a write error a
   * datasync saw: so such an error fails the stream itself. */
  private readonly flusher = new DiskFlusher(() => datasyncFd(this.fd));

  /** `onBytes`: told the bytes written so far, after each chunk (progress; keep it cheap). */
  constructor(
    private readonly fd: number,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super({ highWaterMark: BLOCK_SIZE });
  }

  private flush(callback: (error?: Error | null) => void): void {
    if (this.pendingBytes === 0) return callback();
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    writeAll(this.fd, batch, (error) => {
      if (!error) this.flusher.written(this.bytes);
      callback(error ?? this.flusher.error);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.flusher.error) return callback(this.flusher.error);
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BLOCK_SIZE) this.flush(callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush((error) => {
      // The fd is fsynced and closed next: no datasync may still be running on it then.
      void this.idle().then(() => callback(error ?? this.flusher.error));
    });
  }

  /** Settles once no datasync runs on the fd: call before closing it. */
  idle(): Promise<void> {
    return this.flusher.idle();
  }

  /** The hex digest; call once, after the stream finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** The SHA-256 and size of a stream's bytes. */
export async function hashStream(stream: AsyncIterable<unknown>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The SHA-256 and size of a file, read in 1 MiB blocks (Node's hash is fastest so). */
export function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  return hashStream(createReadStream(path, { highWaterMark: BLOCK_SIZE }));
}

/** The SHA-256 and size of a stored object, read through its storage; NOT_FOUND when it is gone. */
export function hashObject(storage: Storage, key: string): Promise<{ bytes: number; sha256: string }> {
  return hashStream(storage.get(key));
}

/**
 * The SHA-256 and size of a file that another process (the zstd binary) is still writing: it is
 * read in 1 MiB blocks as it grows, until `writer` settles, and then to its end. The writer only
 * appends, so every byte read is final. Rejects when the writer fails.
 */
export async function hashGrowingFile(path: string, writer: Promise<unknown>, onBytes?: (bytes: number) => void): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const buffer = readBuffers.pop() ?? Buffer.allocUnsafe(BLOCK_SIZE);
  let bytes = 0;
  let ended = false;
  const end = writer.finally(() => (ended = true));
  end.catch(() => {});
  const file = await open(path, 'r');
  // Through its own fd: a write error it sees is still reported to the final fsync of the writer's.
  const flusher = new DiskFlusher(() => file.datasync());
  try {
    for (;;) {
      const last = ended; // the writer had finished before this read: an empty read is the end
      const { bytesRead } = await file.read(buffer, 0, BLOCK_SIZE, bytes);
      if (bytesRead > 0) {
        hash.update(buffer.subarray(0, bytesRead));
        bytes += bytesRead;
        onBytes?.(bytes);
        flusher.written(bytes);
      } else if (last) break;
      else await Promise.race([end.catch(() => {}), sleep(10)]);
    }
  } finally {
    await flusher.idle();
    await file.close();
    if (readBuffers.length < 4) readBuffers.push(buffer);
  }
  await end;
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Read buffers hashGrowingFile is done with, for the next: a run of 200 small dumps allocated
 * 200 MiB of them otherwise, and V8 answers memory allocated outside its heap with full
 * garbage collections (59 in that run).
 */
const readBuffers: Buffer[] = [];

export interface HashStage {
  /** The size and SHA-256 of what was written, once all of it was. */
  done: Promise<{ bytes: number; sha256: string }>;
  /** Stops writing after a failure elsewhere; settles when the descriptor may be closed. */
  stop(): Promise<void>;
}

/**
 * Hashes the compressor's (or the encrypter's) output on its way into the file `fd` (at `path`); when the zstd binary
 * writes the file itself, reads it back as it grows instead.
 */
export function hashStage(compressed: Pick<CompressionStage, 'output' | 'done'>, file: { fd: number; path: string }, onBytes?: (bytes: number) => void): HashStage {
  if (!compressed.output) return { done: hashGrowingFile(file.path, compressed.done, onBytes), stop: async () => {} };
  const sink = new HashingFileSink(file.fd, onBytes);
  const done = pipeline(compressed.output, sink).then(() => ({ bytes: sink.bytes, sha256: sink.digest() }));
  return {
    done,
    stop: async () => {
      sink.destroy();
      await sink.idle();
    },
  };
}

/**
 * Passes the bytes on unchanged, hashing and counting them. Its end is held back until `judged`
 * resolves (every other stage succeeded; a dump's trailer is checked only after its last byte):
 * the storage reading it sees the end of its data only then, and an error instead when a stage
 * failed, so a failed artifact never becomes a whole object. Memory: about one block.
 */
export class HashingPassThrough extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly judged: () => Promise<unknown>,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super({ highWaterMark: BLOCK_SIZE });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    this.judged().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  /** The hex digest; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Where the bytes go with `keep_local: false`: one object of a storage. */
export interface RemoteSink {
  storage: Storage;
  key: string;
}

/**
 * The hash stage for `keep_local: false`: the bytes are hashed on their way into
 * `storage.put(key)`. `judged` settles once every other stage succeeded (or failed); the put
 * completes only after it did, and fails (leaving nothing) otherwise.
 */
export function remoteHashStage(compressed: Pick<CompressionStage, 'output'>, sink: RemoteSink, judged: () => Promise<unknown>, onBytes?: (bytes: number) => void): HashStage {
  const hasher = new HashingPassThrough(judged, onBytes);
  const piped = pipeline(compressed.output!, hasher);
  const put = sink.storage.put(sink.key, hasher);
  const done = Promise.all([piped, put]).then(() => ({ bytes: hasher.bytes, sha256: hasher.digest() }));
  done.catch(() => {});
  return {
    done,
    stop: async () => {
      // An echo of that failure (settle reports the cause), and an error, so the put gives up rather than wait for an end.
      hasher.destroy(Object.assign(new Error('stopped after a failure elsewhere'), { code: 'ERR_STREAM_DESTROYED' }));
      // The put has given up (an S3 multipart upload aborted) once it settles.
      await put.catch(() => {});
    },
  };
}
