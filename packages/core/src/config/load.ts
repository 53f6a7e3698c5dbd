/**
 * Loads the configuration: the first config file in the home's conf/ (or --config FILE
 * alone), then BATT_* environment variables; flags are applied by the caller. Later sources win.
 * Every value is validated against the keys the services declare. A file is used only when batt's
 * user or root alone can change it (home/trust.ts): batt runs as root, and a configuration can
 * be code (.js, .cjs, .mjs, .ts) or send passwords to a server it names. The working directory is
 * never searched: a file someone left there must not steer `sudo batt`.
 *
 * Longer than 200 lines because the sources (files, environment) and their order of precedence
 * are one story; the keys themselves are in schema.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile as readFileText } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { assertTrusted } from '../home/trust.js';
import { BattError, didYouMean } from '../errors/errors.js';
import { checkConfigFile, checkConfigShape } from './limits.js';
import { holdsSecret } from './secrets.js';
import type { NotifyConfig } from './notify-keys.js';
import { checkSection, checkValue, globalKeys, serviceCommonKeys, type Compression, type ConfigKeySpec, type StorageConfig } from './schema.js';

export interface ServiceSchema {
  name: string;
  aliases: readonly string[];
  /** undefined for drop-in scripts, whose sections are free-form. */
  keys?: Record<string, ConfigKeySpec>;
}

export interface BattConfig {
  destination?: string;
  /** Unset means the default: zstd where it can run, else gzip. */
  compression?: Compression;
  compression_level?: number;
  concurrency?: number;
  bundle?: boolean;
  /** Durations (90s, 30m, 2h): an item's whole time, and its longest time without new bytes (backup/deadline.ts). */
  timeout?: string;
  stall_timeout?: string;
  /** `batt serve`: how old a last good backup may be (schedule/max-age.ts). */
  max_age?: string;
  /** Seconds a run waits for the lock (home/lock.ts); 0 or unset: skip at once, exit 75. */
  lock_wait?: number;
  /** `batt serve`: the file holding its token. */
  serve?: { token_file?: string };
  /** `syslog: true`: each backup run's summary also goes to syslog (subscribers/syslog.ts). */
  log?: { syslog?: boolean };
  /** Commands run before and after the run (backup/hooks.ts); a service section has its own. */
  hooks?: { before?: readonly (readonly string[])[]; after?: readonly (readonly string[])[]; on_failure?: readonly (readonly string[])[]; timeout?: string };
  /** When the printed timer or cron line runs batt (schedule/units.ts). */
  schedule?: string;
  storage?: readonly StorageConfig[];
  /** False: artifacts go straight to the first storage, with no local copy (docs/storage.md); a service's replaces it. */
  keep_local?: boolean;
  /** Public keys the artifacts are encrypted to (config/encryption.ts); a service's replaces it. */
  encryption?: { age_recipients?: readonly string[]; gpg_recipients?: readonly string[] };
  keep_last?: number;
  keep_hourly?: number;
  keep_daily?: number;
  keep_weekly?: number;
  keep_monthly?: number;
  keep_yearly?: number;
  keep_within?: string;
  require_verified?: boolean;
  suspect_below?: number;
  /** Who hears about a run, and how (notify/). */
  notify?: NotifyConfig;
  /** A Prometheus textfile written after each backup and verify run (metrics/). */
  metrics_file?: string;
  services: Record<string, Record<string, unknown>>;
  /** The files read, in order, for messages. */
  files: string[];
  /** A config file in the working directory, which batt no longer reads: the CLI says so. */
  ignored?: string;
}

const searchPlaces = [
  'batt.config.json',
  'batt.config.yaml',
  'batt.config.yml',
  'batt.config.js',
  'batt.config.mjs',
  'batt.config.cjs',
  'batt.config.ts',
  '.battrc',
  '.battrc.json',
  '.battrc.yaml',
  '.battrc.yml',
  '.battrc.js',
  '.battrc.mjs',
  '.battrc.cjs',
  '.battrc.ts',
];

/** The extensions cosmiconfig reads as YAML ('' is a file without one). */
const yamlExtensions = new Set(['.yaml', '.yml', '']);

/** cosmiconfig's loader for `file`, by its extension as cosmiconfig picks it; CONFIG for any other. */
async function loaderFor(file: string): Promise<(file: string, content: string) => unknown> {
  // cosmiconfig is CommonJS: bundled, its exports arrive under `default`.
  const mod = (await import('cosmiconfig')) as typeof import('cosmiconfig') & { default?: typeof import('cosmiconfig') };
  const loaders: Record<string, ((file: string, content: string) => unknown) | undefined> = mod.defaultLoaders ?? mod.default!.defaultLoaders;
  const loader = loaders[extname(file) || 'noExt'];
  if (!loader) {
    throw new BattError('CONFIG', `cannot read the config ${file}: batt reads YAML (.yaml, .yml, or no extension), JSON (.json) and code (.js, .cjs, .mjs, .ts)`, {
      hint: 'rename it, or give it one of these extensions',
    });
  }
  return loader;
}

/** A YAML text of comments and blank lines only, its lines split as YAML splits them: it sets nothing. */
const commentsOnly = (content: string): boolean => content.split(/\r\n|\r|\n/).every((line) => /^[ \t]*(#|$)/.test(line));

/**
 * Reads and parses one config file (checked by the caller) with cosmiconfig's loaders (YAML, JSON, JS, TS), by its
 * extension as cosmiconfig picks them. Not through cosmiconfig(): making an explorer first reads
 * a "meta config" from the working directory (package.json, .config/config.cjs ...), running its
 * code, which would let a file left there run as root under `sudo batt`.
 */
async function readFile(file: string): Promise<{ file: string; data: unknown }> {
  const yaml = yamlExtensions.has(extname(file));
  // An unknown extension is refused before the file is read; the YAML loader loads only when needed.
  const loader = yaml ? undefined : await loaderFor(file);
  try {
    const content = await readFileText(file, 'utf8');
    // An empty file, or a YAML one of comments only (a new home's batt.config.yaml), sets
    // nothing: no parser is loaded for it (cosmiconfig and its YAML parser: ~7 ms of a run).
    if (content.trim() === '' || (yaml && commentsOnly(content))) return { file, data: {} };
    const data = await (loader ?? (await loaderFor(file)))(file, content);
    return { file, data: data ?? {} };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new BattError('CONFIG', `config file ${file} does not exist`, { hint: 'check the --config path' });
    const detail = err.message
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(0, 4)
      .join(' ');
    throw new BattError('CONFIG', `cannot parse the config ${err.message.includes(file) ? '' : `${file}: `}${detail}`, {
      hint: 'fix the syntax; docs/configuration.md shows a valid example',
      cause: error,
    });
  }
}

/**
 * `path` (--config), or the first of the search places in `dir` that exists: refused when others
 * could change it (or a folder above it), before it is parsed or run. Then exactly that file is
 * read, empty or not: a file after it is never loaded unchecked.
 */
async function trustedRead(path: string | undefined, dir: string | undefined): Promise<{ file: string; data: unknown } | undefined> {
  if (path) {
    checkConfigFile(path);
    return readFile(path);
  }
  if (!dir || !existsSync(dir)) return undefined;
  assertTrusted(dir, 'configuration');
  const candidates = searchPlaces.map((name) => join(dir, name));
  for (const candidate of candidates) checkConfigFile(candidate);
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) return undefined;
  assertTrusted(file, 'configuration');
  return readFile(file);
}

function schemaFor(services: readonly ServiceSchema[], name: string): ServiceSchema | undefined {
  return services.find((s) => s.name === name || s.aliases.includes(name));
}

/** Validates one parsed config file and merges it into `into`. */
export function mergeConfigData(into: BattConfig, data: unknown, file: string, services: readonly ServiceSchema[]): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new BattError('CONFIG', `${file}: the configuration must be a mapping, got ${JSON.stringify(data)}`);
  }
  const known = [...Object.keys(globalKeys), ...services.map((s) => s.name)].sort();
  for (const [key, value] of Object.entries(data)) {
    if (key in globalKeys) {
      (into as unknown as Record<string, unknown>)[key] = checkValue(globalKeys[key], value, key, file);
      continue;
    }
    const service = schemaFor(services, key);
    if (!service) {
      const guess = didYouMean(key, [...known, ...services.flatMap((s) => s.aliases)]);
      throw new BattError('CONFIG', `${file}: unknown key "${key}"${guess ? `: did you mean "${guess}"?` : ''}`, { hint: `valid top-level keys: ${known.join(', ')}` });
    }
    if (!service.keys && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BattError('CONFIG', `${file}: "${key}" must be a mapping of keys to values, got ${JSON.stringify(value)}`);
    }
    const section = service.keys ? checkSection({ ...serviceCommonKeys, ...service.keys }, value, service.name, file) : (value as Record<string, unknown>);
    into.services[service.name] = { ...into.services[service.name], ...section };
  }
}

function fromEnvString(spec: ConfigKeySpec, raw: string): unknown {
  if (spec.type === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (spec.type === 'boolean') return /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : raw;
  if (spec.type === 'argv[]') {
    // JSON for several commands or arguments with spaces; else one command split on whitespace.
    try {
      return raw.trim().startsWith('[') ? (JSON.parse(raw) as unknown) : raw.trim().split(/\s+/);
    } catch {
      return raw;
    }
  }
  if (spec.type === 'string[]')
    return raw
      .split(spec.words ? /[\s,]+/ : ',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

const envName = (...parts: string[]): string => `BATT_${parts.join('_').replace(/-/g, '_').toUpperCase()}`;

/**
 * The value a key gets from the environment, if any. A mapping's keys each have their own variable
 * (BATT_AGE_RECIPIENTS, BATT_MYSQL_AGE_RECIPIENTS); those set replace the mapping of that level.
 * A `prefixed` mapping's variables carry its name (BATT_NOTIFY_SLACK_WEBHOOK_URL_FILE).
 */
function envValue(env: NodeJS.ProcessEnv, prefix: string[], key: string, spec: ConfigKeySpec): unknown {
  if (spec.type === 'mapping') {
    const found = Object.entries(spec.keys).flatMap(([sub, subSpec]) => {
      const value = envValue(env, spec.prefixed ? [...prefix, key] : prefix, sub, subSpec);
      return value === undefined ? [] : [[sub, value] as const];
    });
    return found.length ? Object.fromEntries(found) : undefined;
  }
  const name = envName(...prefix, key);
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : checkValue(spec, fromEnvString(spec, raw), name, 'environment');
}

/** Applies BATT_<KEY> and BATT_<SERVICE>_<KEY> variables. */
export function mergeEnv(into: BattConfig, env: NodeJS.ProcessEnv, services: readonly ServiceSchema[]): void {
  for (const [key, spec] of Object.entries(globalKeys)) {
    if (spec.type === 'section[]') continue; // no one-variable form
    const value = envValue(env, [], key, spec);
    const top = into as unknown as Record<string, unknown>;
    if (value !== undefined) top[key] = spec.type === 'mapping' && spec.prefixed ? mergedMapping(top[key], value) : value;
  }
  for (const service of services) {
    if (!service.keys) continue;
    for (const [key, spec] of Object.entries({ ...serviceCommonKeys, ...service.keys })) {
      if (spec.type === 'section[]') continue; // no one-variable form
      const value = envValue(env, [service.name], key, spec);
      if (value !== undefined) into.services[service.name] = { ...into.services[service.name], [key]: value };
    }
  }
  mergeS3Env(into, env);
}

/** `over` laid on `under`, mapping by mapping (a prefixed mapping's variables add to the file's). */
function mergedMapping(under: unknown, over: unknown): unknown {
  const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMapping(under) || !isMapping(over)) return over;
  const out: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) out[key] = mergedMapping(under[key], value);
  return out;
}

/**
 * BATT_S3_BUCKET (with BATT_S3_ENDPOINT, BATT_S3_PREFIX, BATT_S3_REGION) adds one S3 storage named
 * `s3` to the top level's (replacing one of that name); its credentials come from the AWS SDK's
 * chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE). A custom endpoint implies path style.
 */
function mergeS3Env(into: BattConfig, env: NodeJS.ProcessEnv): void {
  const bucket = env.BATT_S3_BUCKET;
  if (!bucket) return;
  const given = { BATT_S3_ENDPOINT: 'endpoint', BATT_S3_PREFIX: 'prefix', BATT_S3_REGION: 'region' } as const;
  const entry: Record<string, unknown> = { name: 's3', type: 's3', bucket };
  for (const [variable, key] of Object.entries(given)) if (env[variable]) entry[key] = env[variable];
  if (entry.endpoint) entry.force_path_style = true;
  const spec = globalKeys.storage;
  const [checked] = checkValue(spec, [entry], 'BATT_S3_*', 'environment') as StorageConfig[];
  into.storage = [...(into.storage ?? []).filter((s) => s.name !== 's3'), checked];
}

export interface LoadOptions {
  configFile?: string;
  confDir: string;
  /** Only to tell the user that a config file there is not read. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  services: readonly ServiceSchema[];
}

export async function loadConfig(options: LoadOptions): Promise<BattConfig> {
  const config: BattConfig = { services: {}, files: [] };
  if (options.configFile && existsSync(options.configFile)) assertTrusted(options.configFile, 'configuration');
  const found = options.configFile ? [await trustedRead(options.configFile, undefined)] : [await trustedRead(undefined, options.confDir)];
  if (!options.configFile && options.cwd !== options.confDir) config.ignored = searchPlaces.map((name) => join(options.cwd, name)).find((path) => existsSync(path));
  for (const entry of found) {
    if (!entry) continue;
    checkConfigShape(entry.data, entry.file);
    if (holdsSecret(entry.data) && (statSync(entry.file).mode & 0o077) !== 0) {
      throw new BattError('CONFIG', `${entry.file} holds a secret (a password, token or key) but is readable by group or others`, {
        hint: `chmod 600 ${entry.file}`,
      });
    }
    mergeConfigData(config, entry.data, entry.file, options.services);
    config.files.push(entry.file);
  }
  mergeEnv(config, options.env, options.services);
  return config;
}
