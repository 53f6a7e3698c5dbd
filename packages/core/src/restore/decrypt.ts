/**
 * Reading an encrypted artifact back: age in-process with the identities of `--identity FILE`
 * (or BATT_AGE_IDENTITY), gpg through `gpg --batch -d` and the user's keyring and agent. What it
 * was encrypted to is in the catalog (items.encryption, items.recipients), so a missing or wrong
 * key is reported with the recipients that can read it, before a restore touches its target.
 */
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ItemRow } from '../catalog/schema.js';
import type { EncryptionMethod } from '../config/encryption.js';
import { BattError } from '../errors/errors.js';
import { spawnTool, stderrText } from '../exec/exec.js';
import { BLOCK_SIZE } from '../pipeline/hash.js';

/** What an artifact was encrypted with, from its catalog row; undefined when it is not encrypted. */
export interface Encrypted {
  method: EncryptionMethod;
  recipients: string[];
}

/** The keys a restore or verify may decrypt with. */
export interface DecryptionKeys {
  /** age identities (AGE-SECRET-KEY-1…), from --identity FILE. gpg needs none: its agent has them. */
  ageIdentities?: readonly string[];
}

export function encryptedOf(item: Pick<ItemRow, 'encryption' | 'recipients'>): Encrypted | undefined {
  if (item.encryption !== 'age' && item.encryption !== 'gpg') return undefined;
  let recipients: string[] = [];
  try {
    recipients = item.recipients ? (JSON.parse(item.recipients) as string[]) : [];
  } catch {
    // shown as unknown below
  }
  return { method: item.encryption, recipients };
}

const named = (e: Encrypted): string => (e.recipients.length ? e.recipients.join(', ') : 'recipients the catalog does not know');

/** True when the keys given can be tried on it (gpg: always; its keyring decides). */
export function haveKeysFor(e: Encrypted, keys: DecryptionKeys): boolean {
  return e.method === 'gpg' || Boolean(keys.ageIdentities?.length);
}

/** The error for an age artifact and no --identity. */
export function needIdentity(file: string, e: Encrypted): BattError {
  return new BattError('USAGE', `${file} is encrypted with age to ${named(e)}: batt needs the matching identity to read it`, {
    hint: 'give the identity file with --identity FILE (or BATT_AGE_IDENTITY); the host that makes the backups only has the public keys',
  });
}

/** Reads an age identity file (`age-keygen -o`): its AGE-SECRET-KEY lines, each checked. */
export async function readAgeIdentities(path: string): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BattError('USAGE', `cannot read the identity file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'give the file age-keygen wrote (AGE-SECRET-KEY-1…), readable by the user batt runs as',
    });
  }
  const identities = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const { Decrypter } = await import('age-encryption');
  const bad = identities.find((identity) => {
    try {
      new Decrypter().addIdentity(identity);
      return !identity.startsWith('AGE-SECRET-KEY-');
    } catch {
      return true;
    }
  });
  if (!identities.length || bad !== undefined) {
    throw new BattError('USAGE', `${path} is not an age identity file: ${identities.length ? 'a line is not an AGE-SECRET-KEY-1…' : 'it holds no key'}`, {
      hint: 'give the private key file made by `age-keygen -o key.txt` (not the age1… public key; passphrase-protected and SSH keys are not supported)',
    });
  }
  return identities;
}

/** The decrypted bytes of `raw`. Errors surface on the stream: a wrong key names the recipients, damage says so. */
export function decryptStream(raw: Readable, file: string, e: Encrypted, keys: DecryptionKeys, signal?: AbortSignal): Readable {
  const out = new PassThrough({ highWaterMark: BLOCK_SIZE });
  raw.on('error', (error) => out.destroy(error));
  out.on('close', () => raw.destroy());
  const wrongKey = (why: string): BattError =>
    new BattError('USAGE', `cannot decrypt ${file}: ${why}; it was encrypted with ${e.method} to ${named(e)}`, {
      hint:
        e.method === 'age'
          ? 'give the identity file of one of those recipients with --identity FILE'
          : "import the secret key of one of those recipients into this user's gpg keyring",
    });
  const damaged = (why: string): BattError =>
    new BattError('INTEGRITY', `cannot decrypt ${file}: ${why}`, { hint: 'the artifact is damaged: restore an older backup (`batt runs`)' });
  if (e.method === 'age') {
    if (!keys.ageIdentities?.length) {
      out.destroy(needIdentity(file, e));
      return out;
    }
    void (async () => {
      const { Decrypter } = await import('age-encryption');
      const decrypter = new Decrypter();
      for (const identity of keys.ageIdentities!) decrypter.addIdentity(identity);
      let plain: Readable;
      try {
        const web = await decrypter.decrypt(Readable.toWeb(raw) as unknown as ReadableStream<Uint8Array>);
        plain = Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>, { highWaterMark: BLOCK_SIZE });
      } catch (error) {
        const message = (error as Error).message;
        out.destroy(/no identity matched/i.test(message) ? wrongKey('none of the identities given is one it was encrypted to') : damaged(message));
        return;
      }
      plain.on('error', (error) => out.destroy(damaged(error.message)));
      out.on('close', () => plain.destroy());
      plain.pipe(out);
    })().catch((error: Error) => out.destroy(error));
    return out;
  }
  void spawnTool('gpg', ['--batch', '--quiet', '--decrypt'], { stdin: raw, signal, debianPackage: 'gnupg' }).then(async (child) => {
    if (!child.stdout) {
      out.destroy(new BattError('TOOL_MISSING', 'gpg is not installed: it is needed to read .gpg artifacts', { hint: 'apt-get install gnupg' }));
      return;
    }
    out.on('close', () => child.kill('SIGKILL'));
    child.stdout.pipe(out, { end: false });
    const [result] = await Promise.all([child.result, new Promise((r) => child.stdout!.on('end', r))]);
    if (out.destroyed) return;
    if (!result.failed) return void out.end();
    if (result.inputError) return void out.destroy(result.inputError as Error);
    const stderr = stderrText(result);
    out.destroy(
      /no secret key|decryption failed: no|public key decryption failed/i.test(stderr)
        ? wrongKey(lastLine(stderr))
        : damaged(lastLine(stderr) || `gpg exited with code ${result.exitCode}`),
    );
  });
  return out;
}

const lastLine = (text: string): string => text.split('\n').filter(Boolean).slice(-2).join(' | ');

/** Reads the first bytes (age: the header and first chunk) to prove the key works; throws what decrypting would. */
export async function probeDecryption(open: () => Readable): Promise<void> {
  const stream = open();
  try {
    for await (const chunk of stream) if (chunk) break;
  } finally {
    stream.destroy();
  }
}
