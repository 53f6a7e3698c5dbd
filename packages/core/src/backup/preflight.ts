/**
 * What a backup run checks before anything runs, so that a mistake in the configuration fails the
 * command at once (exit 2) rather than every item later: each built-in service's encryption
 * (every recipient), its timeouts and its hooks' timeouts.
 */
import type { BattConfig } from '../config/load.js';
import { encryptionOf, type Encryption } from '../config/encryption.js';
import { checkEncryption } from '../pipeline/encrypt.js';
import type { BackupRequest } from './backup-run.js';
import { limitsOf } from './deadline.js';
import { hookTimeout } from './hooks.js';

/** Checks the run's configuration; returns each built-in service's encryption. */
export async function preflight(request: BackupRequest): Promise<Map<string, Encryption>> {
  const found = new Map<string, Encryption>();
  hookTimeout(request.config.hooks, '');
  for (const { service } of request.selections) {
    limitsOf(request.config, service.name);
    hookTimeout(request.config.services[service.name]?.hooks as BattConfig['hooks'], `${service.name}.`);
    const configured = service.plugin ? encryptionOf(request.config, service.name) : undefined;
    if (configured && !found.has(service.name)) found.set(service.name, await checkEncryption(configured));
  }
  return found;
}
