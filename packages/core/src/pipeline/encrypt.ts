/**
 * Encrypt stage, between compress and hash: the compressed bytes are encrypted to public keys as
 * they stream past, so what is stored (and hashed) is only ever ciphertext. age runs in-process
 * (age-encryption, loaded only when a run encrypts); gpg runs as the `gpg` binary reading stdin and
 * writing stdout. Neither holds more than a chunk or two: memory stays flat whatever the size.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { finished, pipeline } from 'node:stream/promises';
import type { Encryption } from '../config/encryption.js';
import { spawnTool, toolFailure } from '../exec/exec.js';
import { BLOCK_SIZE } from './hash.js';

export interface EncryptionStage {
  /** The encrypted bytes, for the hash stage to write to the file. */
  output: Readable;
  /** Settles when every byte was encrypted; rejects if encryption (or its input) failed. */
  done: Promise<void>;
  /** Stops the stage early, after a failure elsewhere. */
  abort(): void;
}

/** Starts encrypting `input` (the compressor's output) to the recipients. */
export async function encryptStage(encryption: Encryption, input: Readable, signal: AbortSignal): Promise<EncryptionStage> {
  return encryption.method === 'age' ? ageStage(encryption.recipients, input) : gpgStage(encryption.recipients, input, signal);
}

async function ageStage(recipients: readonly string[], input: Readable): Promise<EncryptionStage> {
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  // The web stream pulls from `plain` as the encrypted side is read: backpressure end to end.
  const plain = new PassThrough({ highWaterMark: BLOCK_SIZE });
  const fed = pipeline(input, plain);
  const web = await encrypter.encrypt(Readable.toWeb(plain) as unknown as ReadableStream<Uint8Array>);
  const output = Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>, { highWaterMark: BLOCK_SIZE });
  const done = Promise.all([fed, finished(output)]).then(() => {});
  done.catch(() => {});
  return {
    output,
    done,
    abort: () => {
      plain.destroy();
      output.destroy();
    },
  };
}

async function gpgStage(recipients: readonly string[], input: Readable, signal: AbortSignal): Promise<EncryptionStage> {
  // The input is compressed already: gpg's own compression would only cost time.
  const args = [
    '--batch',
    '--yes',
    '--quiet',
    '--trust-model',
    'always',
    '--compress-algo',
    'none',
    '--encrypt',
    ...recipients.flatMap((r) => ['--recipient', r]),
    '--output',
    '-',
  ];
  const child = await spawnTool('gpg', args, { stdin: input, stdout: 'pipe', signal, debianPackage: 'gnupg' });
  if (!child.stdout) {
    input.destroy();
    throw toolFailure('gpg', await child.result, 'gnupg');
  }
  const output = child.stdout;
  const done = child.result.then((result) => {
    if (result.failed) throw toolFailure('gpg', result, 'gnupg');
  });
  done.catch(() => {});
  return {
    output,
    done,
    abort: () => {
      child.kill('SIGKILL');
      input.destroy();
    },
  };
}
