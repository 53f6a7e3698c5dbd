/**
 * Encryption settings: which public keys a service's artifacts are encrypted to (the top level's
 * `encryption`, or the service's own, which replaces it), and the check at the start of a run that
 * each recipient can be used, so a typo fails before any dump rather than after every one.
 * Only public keys are ever configured: the host that makes the backups cannot read them.
 */
import { BattError } from '../errors/errors.js';
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

export const encryptionDocs = 'docs/encryption.md';
const docs = encryptionDocs;

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
