/**
 * Encryption settings: which public keys a service's artifacts are encrypted to (the top level's
 * `encryption`, or the service's own, which replaces it), and the check at the start of a run that
 * each recipient can be used, so a typo fails before any dump rather than after every one.
 * Only public keys are ever configured: the host that makes the backups cannot read them.
 */
import { BattError } from '../errors/errors.js';
import { runTool } from '../exec/exec.js';
import type { BattConfig } from './load.js';

export type EncryptionMethod = 'age' | 'gpg';

export interface Encryption {
  method: EncryptionMethod;
  /** age: the age1… public keys; gpg: the keys' fingerprints (resolved by checkEncryption). */
  recipients: readonly string[];
}

/** File suffix per method, after the compression's. */
export const encryptionSuffix: Record<EncryptionMethod, string> = { age: '.age', gpg: '.gpg' };

type Section = { age_recipients?: readonly string[]; gpg_recipients?: readonly string[] };

const docs = 'docs/encryption.md';

/** The encryption a service's artifacts get, as configured (not yet checked); undefined for none. */
export function encryptionOf(config: BattConfig, service: string): (Encryption & { where: string }) | undefined {
  const own = config.services[service]?.encryption as Section | undefined;
  const section = own ?? config.encryption;
  if (!section) return undefined;
  const where = own ? `${service}.encryption` : 'encryption';
  const age = section.age_recipients ?? [];
  const gpg = section.gpg_recipients ?? [];
  if (age.length && gpg.length) {
    throw new BattError('CONFIG', `${where} names both age_recipients and gpg_recipients: an artifact is encrypted one way`, {
      hint: `keep one of them (${docs}); every recipient listed can decrypt`,
    });
  }
  if (!age.length && !gpg.length) {
    throw new BattError('CONFIG', `${where} names no recipient: give age_recipients or gpg_recipients`, {
      hint: `e.g. encryption: { age_recipients: [age1…] }, or BATT_AGE_RECIPIENTS; ${docs} shows how to make a key`,
    });
  }
  return age.length ? { method: 'age', recipients: age, where } : { method: 'gpg', recipients: gpg, where };
}

/**
 * Checks that every recipient can be encrypted to: an age recipient must parse; a gpg one must be
 * a key in the keyring that can encrypt (exactly one). Returns the encryption to use, with gpg
 * recipients as fingerprints.
 */
export async function checkEncryption(encryption: Encryption & { where: string }): Promise<Encryption> {
  if (encryption.method === 'age') {
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
