/**
 * The secrets of a run, gathered so that every log line and catalog text can mask them:
 * secret-looking keys in the configuration and secret-looking environment variables
 * (BATT_*_PASSWORD, PGPASSWORD, MYSQL_PWD, REDISCLI_AUTH, …).
 */
import type { BattConfig } from './load.js';

/** Names of keys and variables that hold secrets (but not `*_file`, which names a file). */
export const secretName = /pass(word)?|pwd|secret|token|auth|key$/i;

export function collectSecrets(config: BattConfig, env: NodeJS.ProcessEnv): Set<string> {
  const secrets = new Set<string>();
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string' && secretName.test(key) && !/_file$/i.test(key)) secrets.add(value);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(config.services, '');
  for (const [name, value] of Object.entries(env)) {
    if (value && secretName.test(name) && (name.startsWith('BATT_') || ['PGPASSWORD', 'MYSQL_PWD', 'REDISCLI_AUTH'].includes(name))) secrets.add(value);
  }
  return secrets;
}
