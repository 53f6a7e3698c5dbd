/**
 * The end of every backup stream: a Writable that hashes with SHA-256 and writes to an open
 * file in the same pass. Small chunks (pipes deliver 64 KiB) are gathered into 1 MiB blocks
 * first: hashing and writing 1 MiB at a time is measured to be about twice as fast here.
 * Memory stays at one block, whatever the size of the dump.
 */
import { createHash, type Hash } from 'node:crypto';
import { write } from 'node:fs';
import { Writable } from 'node:stream';

export const BLOCK_SIZE = 1024 * 1024;

function writeAll(fd: number, buffer: Buffer, callback: (error?: Error | null) => void): void {
  write(fd, buffer, 0, buffer.length, null, (error, written) => {
    if (error) return callback(error);
    if (written < buffer.length) return writeAll(fd, buffer.subarray(written), callback);
    callback();
  });
}

export class HashingFileSink extends Writable {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly fd: number) {
    super({ highWaterMark: BLOCK_SIZE });
  }

  private flush(callback: (error?: Error | null) => void): void {
    if (this.pendingBytes === 0) return callback();
    const block = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(block);
    this.bytes += block.length;
    writeAll(this.fd, block, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BLOCK_SIZE) this.flush(callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush(callback);
  }

  /** The hex digest; call once, after the stream finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
