/**
 * The conventions of drop-in scripts that both their backup and their restore follow
 * (docs/scripts.md): where a script's own config file is, which environment it
 * gets, and how its file names split into base and extension.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The script's own config file under conf/, if there is one (BATT_CONF). */
export function scriptConfFile(confDir: string, name: string): string | undefined {
  return ['conf', 'cnf', 'env', 'json', 'yaml', 'yml', 'ini'].map((ext) => join(confDir, `${name}.${ext}`)).find((p) => existsSync(p));
}

const compressed = /^\.(gz|zst|bz2|xz|lz4|lzma|z|br)$/i;

/**
 * `db.sql.gz` → [`db`, `.sql.gz`], `10.0.0.1_x.json` → [`10.0.0.1_x`, `.json`]: the last
 * extension, and the one before it when the last is a compression suffix.
 */
export function splitName(name: string): [string, string] {
  const last = name.lastIndexOf('.');
  if (last <= 0) return [name, ''];
  const ext = name.slice(last);
  if (compressed.test(ext)) {
    const before = name.lastIndexOf('.', last - 1);
    if (before > 0 && /^\.[A-Za-z0-9]{1,5}$/.test(name.slice(before, last))) return [name.slice(0, before), name.slice(before)];
  }
  return [name.slice(0, last), ext];
}

/**
 * A drop-in script is configured by its environment: besides what every tool gets, it gets its
 * own BATT_<NAME>_* variables, secrets included. Other services' secrets stay out, as for tools.
 */
export function scriptEnv(name: string): NodeJS.ProcessEnv {
  const prefix = `BATT_${name.replace(/-/g, '_').toUpperCase()}_`;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith(prefix)));
}
