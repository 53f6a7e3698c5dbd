/**
 * Reading a stored artifact back: its SHA-256 against the catalog (before anything is touched),
 * and its uncompressed bytes as a stream, as often as a restore needs to read them. A damaged
 * compressed stream fails the stream with a message that names the file.
 */
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { BattError } from '../errors/errors.js';
import { spawnTool, stderrText } from '../exec/exec.js';
import { BLOCK_SIZE, hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { decryptStream, type DecryptionKeys, type Encrypted } from './decrypt.js';

export interface StoredArtifact {
  file: string;
  sha256: string | null;
  bytes: number | null;
}

/**
 * Throws an INTEGRITY error unless the file exists with the catalogued size and SHA-256.
 * Runs before a restore touches its target.
 */
export async function checkArtifact(item: StoredArtifact): Promise<{ bytes: number; sha256: string }> {
  const size = (await localStorage.stat(item.file))?.bytes;
  if (size === undefined) {
    throw new BattError('INTEGRITY', `the artifact ${item.file} is missing`, {
      hint: 'it was moved or deleted after the backup; `batt runs` lists other backups to restore from',
    });
  }
  if (item.bytes !== null && size !== item.bytes) {
    throw new BattError('INTEGRITY', `the artifact ${item.file} has ${size} bytes, the catalog recorded ${item.bytes}: it was changed or truncated`, {
      hint: 'do not restore from it; restore an older backup (`batt runs`)',
    });
  }
  const actual = await hashObject(localStorage, item.file);
  if (item.sha256 && actual.sha256 !== item.sha256) {
    throw new BattError(
      'INTEGRITY',
      `the artifact ${item.file} does not match its SHA-256 (catalog ${item.sha256.slice(0, 16)}…, file ${actual.sha256.slice(0, 16)}…): it is damaged`,
      {
        hint: 'do not restore from it; restore an older backup (`batt runs`), and check the disk',
      },
    );
  }
  return actual;
}

/** The compression of an artifact: as catalogued, else from its name (drop-in scripts). */
export function compressionOf(file: string, recorded: string | null): 'zstd' | 'gzip' | 'none' {
  if (recorded === 'zstd' || recorded === 'gzip' || recorded === 'none') return recorded;
  if (/\.zst$/i.test(file)) return 'zstd';
  if (/\.t?gz$/i.test(file)) return 'gzip';
  return 'none';
}

type ZstdZlib = { createZstdDecompress?: () => NodeJS.ReadWriteStream };

/**
 * The artifact's uncompressed bytes (decrypted first when `decryption` says it is encrypted).
 * Errors (a damaged zstd frame, a missing zstd, a wrong key) surface as an error on the stream,
 * so whatever reads it fails rather than restores half a dump.
 */
export function openArtifact(file: string, compression: 'zstd' | 'gzip' | 'none', signal?: AbortSignal, decryption?: { encrypted: Encrypted; keys: DecryptionKeys }): Readable {
  const damaged = (why: string): BattError =>
    new BattError('INTEGRITY', `cannot decompress ${file}: ${why}`, { hint: 'the artifact is damaged: restore an older backup (`batt runs`)' });
  const stored = localStorage.get(file);
  const raw = decryption ? decryptStream(stored, file, decryption.encrypted, decryption.keys, signal) : stored;
  if (compression === 'none') return raw;
  const out = new PassThrough({ highWaterMark: BLOCK_SIZE });
  const inflate = compression === 'gzip' ? zlib.createGunzip() : (zlib as unknown as ZstdZlib).createZstdDecompress?.();
  if (inflate) {
    raw.on('error', (e) => out.destroy(e));
    inflate.on('error', (e: Error) => out.destroy(damaged(e.message)));
    raw.pipe(inflate as unknown as NodeJS.WritableStream);
    (inflate as unknown as Readable).pipe(out);
    out.on('close', () => raw.destroy());
    return out;
  }
  // Encrypted, zstd reads the decrypted stream; else the file itself.
  if (!decryption) raw.destroy();
  const args = decryption ? ['-dc', '-q'] : ['-dc', '-q', '--', file];
  void spawnTool('zstd', args, { signal, debianPackage: 'zstd', stdin: decryption ? raw : undefined })
    .then(async (child) => {
      if (!child.stdout) {
        out.destroy(new BattError('TOOL_MISSING', 'zstd is not installed: it is needed to read .zst artifacts', { hint: 'apt-get install zstd' }));
        return;
      }
      out.on('close', () => {
        child.kill('SIGKILL');
        raw.destroy();
      });
      child.stdout.pipe(out, { end: false });
      const [result] = await Promise.all([child.result, new Promise((r) => child.stdout!.on('end', r))]);
      if (result.failed && !out.destroyed)
        out.destroy(result.inputError ? (result.inputError as Error) : damaged(stderrText(result) || `zstd exited with code ${result.exitCode}`));
      else out.end();
    })
    .catch((error: Error) => out.destroy(error)); // refused before it started (exec/guard.ts)
  return out;
}

/** Reads a stream to its end, counting bytes and keeping the last `keep`; rejects when it fails. */
export async function drain(stream: Readable, keep = 0): Promise<{ bytes: number; tail: Buffer }> {
  let bytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (keep) tail = keepTail(tail, chunk as Buffer, keep);
  }
  return { bytes, tail };
}

/** The last `keep` bytes of a stream, once `chunk` followed `tail`. */
export function keepTail(tail: Buffer, chunk: Buffer, keep: number): Buffer {
  return chunk.length >= keep ? chunk.subarray(-keep) : Buffer.concat([tail, chunk]).subarray(-keep);
}
