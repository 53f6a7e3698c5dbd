/**
 * Secrets: which keys and variables hold them, reading password files, and gathering every
 * secret of a run so that each log line and catalog text can mask it. One definition serves
 * both masking and the rule that a config file holding a secret must be 0600.
 */
import { readFileSync, statSync } from 'node:fs';
import { BattError } from '../errors/errors.js';
import type { BattConfig } from './load.js';
import type { ConfigKeys } from './schema.js';

/**
 * Names that hold a secret: password, *_PASSWORD, PGPASSWORD, MYSQL_PWD, secret, token,
 * REDISCLI_AUTH, api_key, a Slack webhook_url. Not `*_file` (a path), `ssl_key` (a path) or `auth_database`.
 */
export const secretName = /(pass(word)?|pwd|secret|token|credentials?|api_?key|access_?key|(^|_)auth|webhook_?url)$/i;

/** The value of a header line ("Authorization: Bearer x") whose name says it holds a secret, if it does. */
export function secretHeaderValue(line: string): string | undefined {
  const m = /^([^:]+):\s*(.+)$/.exec(line);
  return m && /authorization|cookie|token|secret|key|signature|pass/i.test(m[1]) ? m[2].trim() : undefined;
}

/** The password inside a connection string (`mongodb://user:pw@host`), if any. */
export function uriPassword(value: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]+)@/i.exec(value);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Reads a `password_file`, naming the service and the fix when it cannot. */
export function readPasswordFile(service: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new BattError('CONFIG', `cannot read ${service}.password_file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'check the path and that batt may read it (it should be mode 0600)',
    });
  }
}

/**
 * A secret kept in a file only its owner may read (a storage's secret key, a Slack URL, an SMTP
 * password, the serve token), trimmed; refused (CONFIG, naming `key` and the fix) when group or
 * others may read it, or when it cannot be read. Never logged.
 */
export function readSecretFile(key: string, path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new BattError('CONFIG', `cannot read ${key} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'check the path and that batt may read it (it should be mode 0600)',
    });
  }
  if ((mode & 0o077) !== 0) throw new BattError('CONFIG', `${key} ${path} holds a secret but is readable by group or others`, { hint: `chmod 600 ${path}` });
  return readFileSync(path, 'utf8').trim();
}

/** The configured password: `password`, else the contents of `password_file`. */
export function passwordOf(service: string, config: { readonly password?: string; readonly password_file?: string }): string | undefined {
  const file = config.password_file;
  return config.password ?? (file ? readPasswordFile(service, file) : undefined);
}

/** The connection keys every database service shares; `host` says what the host may be. */
export function serverKeys(service: string, host: string, extra = '') {
  const env = `BATT_${service.toUpperCase()}_PASSWORD`;
  return {
    host: { type: 'string', describe: host },
    port: { type: 'number', min: 1, max: 65535, integer: true, describe: 'server port' },
    user: { type: 'string', describe: 'user name' },
    password: { type: 'string', describe: `password (prefer password_file or ${env}${extra})` },
    password_file: { type: 'string', describe: 'file holding the password' },
  } as const satisfies ConfigKeys;
}

/** The keys choosing a database service's databases; `all` says what the default, all of them, means. */
export function databaseKeys(all: string) {
  return {
    databases: { type: 'string[]', describe: `databases to back up (default: ${all})` },
    exclude: { type: 'string[]', describe: 'databases to leave out' },
  } as const satisfies ConfigKeys;
}

/** The connection that serverKeys describe, with the password read from `password` or `password_file`. */
export function serverOf(
  service: string,
  config: { readonly host?: string; readonly port?: number; readonly user?: string; readonly password?: string; readonly password_file?: string },
): { host?: string; port?: number; user?: string; password?: string } {
  return { host: config.host, port: config.port, user: config.user, password: passwordOf(service, config) };
}

/** True when a parsed config holds a secret (then its file must be 0600). */
export function holdsSecret(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const secretHeaders = (k: string, v: unknown): boolean => k === 'headers' && Array.isArray(v) && v.some((h) => typeof h === 'string' && secretHeaderValue(h) !== undefined);
  return Object.entries(value).some(([k, v]) => (typeof v === 'string' && (secretName.test(k) || uriPassword(v) !== undefined)) || secretHeaders(k, v) || holdsSecret(v));
}

export function collectSecrets(config: BattConfig, env: NodeJS.ProcessEnv): Set<string> {
  const secrets = new Set<string>();
  const visit = (value: unknown, key: string, service: string): void => {
    if (typeof value === 'string') {
      if (secretName.test(key)) secrets.add(value);
      const fromUri = uriPassword(value);
      if (fromUri) secrets.add(fromUri);
      if (key === 'headers') {
        const header = secretHeaderValue(value);
        if (header) secrets.add(header);
      }
      if (key === 'password_file' || key === 'webhook_url_file' || key === 'secret_access_key_file') {
        try {
          // As the service reads it (a password_file keeps inner spaces) and trimmed (readSecretFile).
          const text = readPasswordFile(service, value);
          secrets.add(text);
          secrets.add(text.trim());
        } catch {
          // The service reports an unreadable file when it needs it.
        }
      }
    } else if (Array.isArray(value)) for (const v of value) visit(v, key, service);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k, service);
  };
  for (const [service, section] of Object.entries(config.services)) visit(section, '', service);
  visit(config.notify, '', 'notify');
  visit(config.storage, '', 'storage');
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (secretName.test(name) && (name.startsWith('BATT_') || ['PGPASSWORD', 'MYSQL_PWD', 'REDISCLI_AUTH', 'AWS_SECRET_ACCESS_KEY'].includes(name))) secrets.add(value);
    const fromUri = name.startsWith('BATT_') ? uriPassword(value) : undefined;
    if (fromUri) secrets.add(fromUri);
  }
  return secrets;
}
