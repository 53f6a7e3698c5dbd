/**
 * Encrypt stage, between compress and hash: the compressed bytes are encrypted to public keys as
 * they stream past, so what is stored (and hashed) is only ever ciphertext. age runs in-process:
 * X25519 recipients with node:crypto (age.ts, native ChaCha20-Poly1305), any other kind (age1pq1…)
 * with age-encryption, loaded only then; gpg runs as the `gpg` binary reading stdin and writing
 * stdout. Neither holds more than a chunk or two: memory stays flat whatever the size.
 * checkEncryption proves each recipient usable when a run starts.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { finished, pipeline } from 'node:stream/promises';
import { encryptionDocs as docs, type Encryption } from '../config/encryption.js';
import { BattError } from '../errors/errors.js';
import { runTool, spawnTool, toolFailure } from '../exec/exec.js';
import { AgeEncrypter, x25519Recipient } from './age.js';
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
  const keys = recipients.map(x25519Recipient);
  if (keys.every((key) => key !== undefined)) return nativeAgeStage(keys, input);
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  // The web stream pulls from `plain` as the encrypted side is read: backpressure end to end.
  const plain = new PassThrough({ highWaterMark: BLOCK_SIZE });
  const fed = pipeline(input, plain);
  const web = await encrypter.encrypt(Readable.toWeb(plain) as unknown as ReadableStream<Uint8Array>);
  const output = Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>, { highWaterMark: BLOCK_SIZE });
  return inProcess(fed, plain, output);
}

/** X25519 recipients only: age in node:crypto, a Transform with backpressure both ways. */
function nativeAgeStage(keys: Buffer[], input: Readable): EncryptionStage {
  const output = new AgeEncrypter(keys, BLOCK_SIZE);
  return inProcess(pipeline(input, output), input, output);
}

/** An in-process encrypter fed from `feeding` by `fed`: done when both the feeding and the output end. */
function inProcess(fed: Promise<void>, feeding: Readable, output: Readable): EncryptionStage {
  const done = Promise.all([fed, finished(output)]).then(() => {});
  done.catch(() => {});
  return {
    output,
    done,
    abort: () => {
      feeding.destroy();
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

/**
 * Checks that every recipient can be encrypted to: an age recipient must parse; a gpg one must be
 * a key in the keyring that can encrypt (exactly one). Returns the encryption to use, with gpg
 * recipients as fingerprints.
 */
export async function checkEncryption(encryption: Encryption & { where: string }): Promise<Encryption> {
  if (encryption.method === 'age') {
    // X25519 recipients parse natively (age.ts); only other kinds load age-encryption to be checked.
    if (encryption.recipients.every((recipient) => x25519Recipient(recipient))) return { method: 'age', recipients: [...encryption.recipients] };
    const { Encrypter } = await import('age-encryption');
    for (const recipient of encryption.recipients) {
      try {
        new Encrypter().addRecipient(recipient);
      } catch (error) {
        throw new BattError('CONFIG', `${encryption.where}: "${recipient}" is not an age recipient (${(error as Error).message})`, {
          hint: `an age recipient is the public key age-keygen prints, age1… (58 more characters); never the AGE-SECRET-KEY (${docs})`,
        });
      }
    }
    return { method: 'age', recipients: [...encryption.recipients] };
  }
  const fingerprints: string[] = [];
  for (const recipient of encryption.recipients) fingerprints.push(await gpgKeyFor(recipient, encryption.where));
  return { method: 'gpg', recipients: fingerprints };
}

/** The fingerprint of the one encryption-capable key `recipient` names in gpg's keyring. */
async function gpgKeyFor(recipient: string, where: string): Promise<string> {
  const unusable = (why: string): BattError =>
    new BattError('CONFIG', `${where}: the gpg key "${recipient}" ${why}`, {
      hint: `import the public key into batt's keyring (gpg --import key.asc, as the user batt runs as; GNUPGHOME if set), and give its fingerprint (${docs})`,
    });
  let listing: string;
  try {
    listing = await runTool('gpg', ['--batch', '--list-keys', '--with-colons', '--', recipient], { debianPackage: 'gnupg' });
  } catch (error) {
    if ((error as BattError).code === 'TOOL_MISSING') throw error;
    throw unusable('is not in the keyring');
  }
  // pub records: validity (field 2), capabilities (field 12, capitals: of the key with its subkeys); fpr: field 10.
  const keys: { validity: string; caps: string; fpr?: string }[] = [];
  for (const fields of listing.split('\n').map((line) => line.split(':'))) {
    if (fields[0] === 'pub') keys.push({ validity: fields[1] ?? '', caps: fields[11] ?? '' });
    else if (fields[0] === 'fpr' && keys.length && !keys[keys.length - 1].fpr) keys[keys.length - 1].fpr = fields[9];
  }
  if (keys.length === 0) throw unusable('is not in the keyring');
  if (keys.length > 1) throw unusable(`matches ${keys.length} keys (${keys.map((k) => k.fpr).join(', ')}): give one fingerprint`);
  const [key] = keys;
  if (/[rei]/.test(key.validity)) throw unusable(`is ${{ r: 'revoked', e: 'expired', i: 'invalid' }[key.validity.match(/[rei]/)![0]]}`);
  if (!key.caps.includes('E') || key.caps.includes('D')) throw unusable('has no usable encryption key (its capabilities: ' + (key.caps || 'none') + ')');
  if (!key.fpr) throw unusable('has no fingerprint in gpg --list-keys');
  return key.fpr;
}
