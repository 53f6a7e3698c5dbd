/**
 * The one place a backup becomes a file, in five stages: dump → compress → encrypt → hash → store
 * (encrypt only when the service is encrypted to public keys). They run side by side in one pass;
 * the file gets its final name only when all of them succeeded. If the dump, the compressor, the
 * encrypter or the disk fails, the new file is removed and nothing is placed.
 *
 * With `keep_local: false` (`remote`) the store stage is a storage's put instead of a local file:
 * the bytes are hashed on their way into the first storage, whose put sees the end of its data
 * only once every other stage succeeded, and fails (leaving no object) otherwise. The object is
 * then checked by its size (never read back whole: that would be a second pass).
 */
import { encryptionSuffix, type Encryption } from '../config/encryption.js';
import type { Compression } from '../config/schema.js';
import { BattError, fromSystemError } from '../errors/errors.js';
import type { ToolResult } from '../exec/exec.js';
import type { ItemFacts } from '../plugins/types.js';
import type { NewFile } from '../storage/local.js';
import { compressStage, compressionSuffix, type CompressionStage } from './compress.js';
import { disposeOf, dumpStage, type Dump, type DumpStage } from './dump.js';
import { encryptStage, type EncryptionStage } from './encrypt.js';
import { hashStage, remoteHashStage, type HashStage } from './hash.js';
import { freeRemoteName, storeStage, type RemoteStore } from './store.js';

export interface ArtifactRequest {
  /** The plugin's dump: a stream it produced, or a command for the core to run. */
  dump: Dump;
  dir: string;
  /** Final name without suffixes, e.g. `var_www`. */
  base: string;
  /** Uncompressed suffix, e.g. `.tar`. */
  ext: string;
  compression: Compression;
  level?: number;
  /** Public keys to encrypt to (checked at the run's start); the name then ends in `.age` or `.gpg`. */
  encryption?: Encryption;
  /** Added to the name when `base+ext` already exists (the run id). */
  uniqueSuffix: string;
  signal: AbortSignal;
  /** Told the compressed bytes written so far, as they are written (progress). */
  onBytes?: (bytes: number) => void;
  /** `keep_local: false`: the artifact goes straight to this storage, and no local file is written. */
  remote?: RemoteStore;
  /** The service whose dump it is, named if its command is refused (exec/guard.ts). */
  service?: string;
}

export interface Artifact {
  /** The placed file; with `remote`, where it would have been (the object's key is made from it). */
  path: string;
  /** With `remote`: the object's key in that storage. */
  key?: string;
  bytes: number;
  sha256: string;
  facts: ItemFacts;
}

interface Stages {
  compress?: CompressionStage;
  encrypt?: EncryptionStage;
  dump?: DumpStage;
  hash?: HashStage;
}

export async function writeArtifact(request: ArtifactRequest): Promise<Artifact> {
  const { dump, signal } = request;
  // Settled below; a dump judged failed before then must not count as an unhandled rejection.
  if ('done' in dump) dump.done.catch(() => {});
  if (request.remote) return writeRemote(request, request.remote);
  let file: NewFile;
  try {
    file = await storeStage(request.dir);
  } catch (error) {
    await disposeOf(dump);
    throw error;
  }
  const stages: Stages = {};
  try {
    const { encryption } = request;
    // Encrypted, the compressed bytes must pass through the encrypter: the zstd binary never writes the file itself then.
    const compressed = (stages.compress = await compressStage(request.compression, request.level, signal, encryption ? undefined : file.fd, dump));
    if (encryption) stages.encrypt = await encryptStage(encryption, compressed.output!, signal);
    stages.dump = await dumpStage(dump, compressed, signal, request.service);
    stages.hash = hashStage(stages.encrypt ?? compressed, file, request.onBytes);
    const facts = await settle(stages);
    const { bytes, sha256 } = await stages.hash.done;
    // An interrupted run places nothing, whatever finished meanwhile.
    if (signal.aborted) throw signal.reason ?? new BattError('INTERRUPTED', 'interrupted');
    const suffix = request.ext + compressionSuffix[request.compression] + (encryption ? encryptionSuffix[encryption.method] : '');
    const path = await file.place(request.base, suffix, request.uniqueSuffix);
    await disposeOf(dump);
    return { path, bytes, sha256, facts };
  } catch (error) {
    await stop(stages);
    await file.discard();
    await disposeOf(dump);
    // System errors (ENOSPC, EACCES, EIO) get a message that names the folder and the fix.
    throw (error as NodeJS.ErrnoException)?.syscall ? fromSystemError(error, `cannot write the backup in ${request.dir}`) : error;
  }
}

/** The same stages into a storage's put: nothing is written locally. */
async function writeRemote(request: ArtifactRequest, remote: RemoteStore): Promise<Artifact> {
  const { dump, signal, encryption } = request;
  const suffix = request.ext + compressionSuffix[request.compression] + (encryption ? encryptionSuffix[encryption.method] : '');
  const stages: Stages = {};
  let name: Awaited<ReturnType<typeof freeRemoteName>>;
  try {
    name = await freeRemoteName(remote, request.dir, request.base, suffix, request.uniqueSuffix);
  } catch (error) {
    await disposeOf(dump);
    throw error;
  }
  const { path, key } = name;
  let stored = false;
  try {
    // No file to write into: the zstd binary's output is a stream, as when encrypting.
    const compressed = (stages.compress = await compressStage(request.compression, request.level, signal, undefined, dump));
    if (encryption) stages.encrypt = await encryptStage(encryption, compressed.output!, signal);
    const dumped = (stages.dump = await dumpStage(dump, compressed, signal, request.service));
    const encrypted = stages.encrypt;
    // The put sees the end of its data only once every other stage succeeded, and not on an interrupt.
    const judged = async (): Promise<void> => {
      await Promise.all([compressed.done, encrypted?.done, dumped.done]);
      if (signal.aborted) throw signal.reason ?? new BattError('INTERRUPTED', 'interrupted');
    };
    stages.hash = remoteHashStage(encrypted ?? compressed, { storage: remote.storage, key }, judged, request.onBytes);
    const facts = await settle(stages);
    const { bytes, sha256 } = await stages.hash.done;
    stored = true;
    if (signal.aborted) throw signal.reason ?? new BattError('INTERRUPTED', 'interrupted');
    const stat = await remote.storage.stat(key);
    if (stat?.bytes !== bytes) {
      throw new BattError('IO', `the backup sent to ${remote.name} (${key}) reads back ${stat ? `as ${stat.bytes} bytes` : 'as missing'}, not ${bytes}`, {
        hint: 'check the storage (`batt doctor`, docs/storage.md) and run batt again',
      });
    }
    await disposeOf(dump);
    return { path, key, bytes, sha256, facts };
  } catch (error) {
    await stop(stages);
    // A put that failed left nothing; one that finished is taken back.
    if (stored) await remote.storage.delete(key).catch(() => false);
    await disposeOf(dump);
    throw error;
  } finally {
    name.release();
  }
}

/** Stops every stage that started and waits until none still writes. */
async function stop(stages: Stages): Promise<void> {
  stages.dump?.stop();
  stages.compress?.abort();
  stages.encrypt?.abort();
  await stages.hash?.stop();
  await Promise.allSettled([stages.compress?.done, stages.encrypt?.done, stages.dump?.done, stages.hash?.done]);
}

/** A failure caused by another stage failing: a broken pipe, or being stopped by batt. */
function isEcho(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return true;
  const signal = (error as { cause?: ToolResult } | undefined)?.cause?.signal;
  return signal === 'SIGPIPE' || signal === 'SIGKILL';
}

/**
 * Waits for the running stages. When one fails the others are stopped, and the error
 * reported is the cause, not its echo: a full disk before a compressor killed by the broken
 * pipe, and a compressor that failed before a dump killed by SIGPIPE.
 */
async function settle(stages: Stages): Promise<ItemFacts> {
  const all = [stages.hash!.done, stages.compress!.done, stages.encrypt?.done, stages.dump!.done] as const;
  try {
    const [, , , facts] = await Promise.all(all);
    return facts;
  } catch (first) {
    await stop(stages);
    const results = await Promise.allSettled(all);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    throw failures.find((error) => !isEcho(error)) ?? first;
  }
}
